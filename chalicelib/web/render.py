"""HTML rendering for customer-facing pages: jinja2 templates next to this module, autoescaped.

The environment and the stylesheet are loaded on first use and cached for the life of the process
(nothing happens at import). Pages carry their CSS inline, so the Lambda serves them without any other
asset; :func:`style_hash` gives the ``sha256-…`` source a Content-Security-Policy uses to allow exactly
that stylesheet and nothing else.
"""
from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STYLESHEET = HERE / "status.css"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@lru_cache(maxsize=1)
def stylesheet() -> str:
    return STYLESHEET.read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def style_hash() -> str:
    """The CSP source matching the inline ``<style>`` element exactly."""
    digest = hashlib.sha256(stylesheet().encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def render(template: str, **context: Any) -> str:
    """Render ``template`` with ``context``; every value is HTML-escaped unless the template says otherwise.
    The stylesheet is available to templates as ``stylesheet`` (trusted, shipped with the app)."""
    return environment().get_template(template).render(stylesheet=stylesheet(), **context)
