"""The template environment of every text sent to a customer: one sandboxed jinja2 environment.

Templates are data from the brand configuration (``templates`` in ``brand.yaml``), so they run in jinja2's
sandbox. The texts are plain text, never HTML, so nothing is autoescaped; ``trim_blocks`` and ``lstrip_blocks``
let a block tag sit on its own line without leaving a blank line or indentation behind. A variable a template
uses but is not given renders empty.

Compiled templates are cached by their source: a configuration holds a handful of templates, and each is
compiled once per process instead of once per message. The configuration check (``domain.config``) parses
templates with this same environment, so a template that passes the check is the template customers' texts
are rendered from.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import jinja2.meta
from jinja2 import TemplateSyntaxError as TemplateSyntaxError
from jinja2 import nodes
from jinja2.sandbox import SandboxedEnvironment

__all__ = ["TemplateSyntaxError", "parse", "render", "undeclared_variables"]

#: Distinct template sources kept compiled; far more than a configuration holds.
CACHE_SIZE = 256

_ENV = SandboxedEnvironment(autoescape=False, trim_blocks=True, lstrip_blocks=True)
_BLANK_LINES = re.compile(r"\n{3,}")
_SPACES = re.compile(r"[ \t]+")


@lru_cache(maxsize=CACHE_SIZE)
def _compiled(source: str) -> jinja2.Template:
    return _ENV.from_string(source)


def render(source: str, **values: Any) -> str:
    """Render a template source. Missing variables render empty; runs of spaces and tabs become one space,
    more than one blank line becomes one, and the ends are trimmed (so an empty optional part leaves no gap)."""
    text = _compiled(source).render(**values)
    return _SPACES.sub(" ", _BLANK_LINES.sub("\n\n", text)).strip()


def parse(source: str) -> nodes.Template:
    """The syntax tree of a template source; raises :class:`TemplateSyntaxError` when it does not parse."""
    return _ENV.parse(source)


def undeclared_variables(source: str) -> frozenset[str]:
    """The variables a template source reads without setting them itself (what it expects to be given).
    Raises :class:`TemplateSyntaxError` when the source does not parse."""
    return frozenset(jinja2.meta.find_undeclared_variables(parse(source)))
