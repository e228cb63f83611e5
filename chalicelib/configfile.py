"""Reading the brand configuration file: YAML in, a validated :class:`BrandConfig` or every problem with its line out.

``load_config`` / ``parse_config`` return a frozen :class:`~chalicelib.domain.config.BrandConfig` (the schema
lives in ``domain.config``) or raise :class:`ConfigError`, whose message lists *every* problem as
``file:line: location: problem``, e.g.
``chalicelib/brand.yaml:12: teams.uk_day.slots[1]: overlapping slots mon 07:00-12:00 and mon 11:00-15:00``.

Line numbers come from a YAML loader that records the start mark of every mapping key and sequence
item; each pydantic error location is mapped to the nearest recorded line.

The YAML dialect is "YAML 1.1 minus its surprises": ``20:00`` stays a string (not the sexagesimal
integer 1200) and ``on`` / ``off`` / ``yes`` / ``no`` / ``NO`` stay strings (only ``true`` / ``false``
are booleans), so times and country codes need no quoting. Dates stay strings until the schema
parses them, so an impossible date is reported with its line like any other problem.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import ErrorDetails

from chalicelib.domain.config import BrandConfig, CrossReferenceErrors, Location, cross_check

__all__ = ["ConfigError", "ConfigProblem", "load_config", "parse_config"]


# --------------------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------------------


class ConfigProblem(BaseModel):
    """One problem found in a configuration file."""

    model_config = ConfigDict(frozen=True)

    source: str
    line: int | None
    location: str
    message: str

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        return f"{where}: {self.location}: {self.message}" if self.location else f"{where}: {self.message}"


class ConfigError(Exception):
    """The configuration is invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: Sequence[ConfigProblem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


# --------------------------------------------------------------------------------------------------
# YAML loading with line numbers
# --------------------------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """SafeLoader without sexagesimal numbers, without yes/no/on/off booleans, and with dates left as
    strings (validated, with a line number, by the schema)."""


_REPLACED_TAGS = ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
                  "tag:yaml.org,2002:timestamp")
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _REPLACED_TAGS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


def _record_lines(node: yaml.Node, path: Location, lines: dict[Location, int]) -> None:
    """Record the 1-based line of every mapping key and sequence item under ``node``."""
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            child = (*path, key)
            lines[child] = key_node.start_mark.line + 1
            _record_lines(value_node, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, index)
            lines[child] = item.start_mark.line + 1
            _record_lines(item, child, lines)


def _load_yaml(text: str, source: str) -> tuple[Any, dict[Location, int]]:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        lines: dict[Location, int] = {}
        _record_lines(node, (), lines)
        data = loader.construct_document(node)
        return data, lines
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = ConfigProblem(source=source, line=line, location="", message=f"invalid YAML: {exc.problem or exc}")
        raise ConfigError([problem]) from None
    except yaml.YAMLError as exc:
        problem = ConfigProblem(source=source, line=None, location="", message=f"invalid YAML: {exc}")
        raise ConfigError([problem]) from None
    finally:
        loader.dispose()


def _line_for(loc: Sequence[Any], lines: Mapping[Location, int]) -> int | None:
    """The line of the longest prefix of ``loc`` that was recorded."""
    path = tuple(loc)
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get(())


def _format_loc(loc: Sequence[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


# --------------------------------------------------------------------------------------------------
# entry points
# --------------------------------------------------------------------------------------------------


def load_config(path: str | Path) -> BrandConfig:
    """Read and validate a configuration file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        problem = ConfigProblem(source=str(path), line=None, location="", message=f"cannot read: {exc.strerror or exc}")
        raise ConfigError([problem]) from None
    return parse_config(text, source=str(path))


def parse_config(text: str, source: str = "<config>") -> BrandConfig:
    """Validate configuration text; raise :class:`ConfigError` listing every problem with its line."""
    data, lines = _load_yaml(text, source)
    if not isinstance(data, dict):
        problem = ConfigProblem(source=source, line=1, location="", message="the file must be a YAML mapping")
        raise ConfigError([problem])
    try:
        return BrandConfig.model_validate(data)
    except ValidationError as exc:
        problems = _problems_from(exc, data, lines, source)
    raise ConfigError(problems)


# --------------------------------------------------------------------------------------------------
# pydantic errors → located problems
# --------------------------------------------------------------------------------------------------


def _problems_from(
    exc: ValidationError, data: Mapping[str, object], lines: Mapping[Location, int], source: str
) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = [_make(source, lines, list(loc), message) for loc, message in cross_check(data)]
    for error in exc.errors(include_url=False):
        loc: list[Any] = list(error["loc"])
        ctx = error.get("ctx") or {}
        if isinstance(ctx.get("error"), CrossReferenceErrors):
            continue  # already reported by the raw cross-check above
        # Pydantic adds the tag of a constrained key / union member; it is not part of the file's path.
        loc = [part for part in loc if not (isinstance(part, str) and part.startswith(("function-", "literal[")))]
        if error["type"] == "overlap":
            loc = [*loc, "slots", ctx["slot"]]
        elif error["type"] == "override":
            loc = [*loc, "overrides", ctx["override"]]
        problems.append(_make(source, lines, loc, _message(error)))
    unique = list(dict.fromkeys(problems))
    unique.sort(key=lambda p: (p.line or 0, p.location))
    return unique


def _make(source: str, lines: Mapping[Location, int], loc: list[Any], message: str) -> ConfigProblem:
    if loc and loc[-1] == "[key]":
        loc = loc[:-1]
    return ConfigProblem(source=source, line=_line_for(loc, lines), location=_format_loc(loc), message=message)


def _message(error: ErrorDetails) -> str:
    kind = error["type"]
    if kind == "too_short":
        return "must not be empty"
    if kind == "extra_forbidden":
        return f"unknown key {error['loc'][-1]!r}"
    if kind == "missing":
        return f"missing required key {error['loc'][-1]!r}"
    if kind == "literal_error":
        return f"{error['input']!r} is not allowed: {error['msg'].replace('Input should be', 'expected')}"
    message = error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            message = message[len(prefix) :]
    return message
