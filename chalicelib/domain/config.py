"""The brand configuration: one versioned YAML file, validated by pydantic.

Teams, rota, desks, routing, triage rules, SLA targets and acknowledgement templates all live in
``chalicelib/brand.yaml`` (its header documents the format). ``load_config`` / ``parse_config`` return a
frozen :class:`BrandConfig` or raise :class:`ConfigError`, whose message lists *every* problem as
``file:line: location: problem``.

Line numbers come from a YAML loader that records the start mark of every mapping key and sequence
item; each pydantic error location is mapped to the nearest recorded line.

The YAML dialect is "YAML 1.1 minus its surprises": ``20:00`` stays a string (not the sexagesimal
integer 1200) and ``on`` / ``off`` / ``yes`` / ``no`` / ``NO`` stay strings (only ``true`` / ``false``
are booleans), so times and country codes need no quoting. Dates stay strings until the schema
parses them, so an impossible date is reported with its line like any other problem.
"""
from __future__ import annotations

import re
from datetime import date, time
from pathlib import Path
from typing import Any, Literal, Mapping, Optional, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib
import jinja2
import jinja2.meta
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from chalicelib.domain.mention import CHANNELS

__all__ = [
    "ConfigError",
    "ConfigProblem",
    "BrandConfig",
    "Brand",
    "Team",
    "Slot",
    "Override",
    "HolidayCalendar",
    "Desk",
    "Routing",
    "Rule",
    "TriageRules",
    "DeskRule",
    "HighReach",
    "SlaTarget",
    "DAYS",
    "PRIORITIES",
    "INTENTS",
    "TEMPLATE_VARIABLES",
    "QUEUE_PREFIX",
    "load_config",
    "parse_config",
    "format_minutes",
]

SUPPORTED_VERSIONS = (1,)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PRIORITIES = ("urgent", "normal")
INTENTS = ("complaint", "question", "praise", "spam", "abuse", "other")
TEMPLATE_VARIABLES = frozenset(
    {
        "name",
        "reference",
        "back_at",
        "back_in",
        "status_url",
        "incident_title",
        "incident_url",
        "dm_invite",
        "desk",
    }
)
QUEUE_PREFIX = "responder-desk-"
ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_TIME_RE = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")
MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Priority = Literal["urgent", "normal"]
Intent = Literal["complaint", "question", "praise", "spam", "abuse", "other"]


# --------------------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------------------


class ConfigProblem(BaseModel):
    """One problem found in a configuration file."""

    model_config = ConfigDict(frozen=True)

    source: str
    line: Optional[int]
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


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp")]
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


def _record_lines(node: yaml.Node, path: tuple, lines: dict[tuple, int]) -> None:
    """Record the 1-based line of every mapping key and sequence item under ``node``."""
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            child = path + (key,)
            lines[child] = key_node.start_mark.line + 1
            _record_lines(value_node, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = path + (index,)
            lines[child] = item.start_mark.line + 1
            _record_lines(item, child, lines)


def _load_yaml(text: str, source: str) -> tuple[Any, dict[tuple, int]]:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        lines: dict[tuple, int] = {}
        _record_lines(node, (), lines)
        data = loader.construct_document(node)
        return data, lines
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise ConfigError([ConfigProblem(source=source, line=line, location="", message=f"invalid YAML: {exc.problem or exc}")]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([ConfigProblem(source=source, line=None, location="", message=f"invalid YAML: {exc}")]) from None
    finally:
        loader.dispose()


def _line_for(loc: Sequence[Any], lines: Mapping[tuple, int]) -> Optional[int]:
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
# value helpers
# --------------------------------------------------------------------------------------------------


def _problem(message: str) -> PydanticCustomError:
    # Braces in the message would be read as placeholders by pydantic.
    return PydanticCustomError("config", message.replace("{", "(").replace("}", ")"))


def _parse_hhmm(value: Any, *, allow_24: bool) -> int:
    """``"HH:MM"`` → minutes after midnight (``24:00`` → 1440 when allowed)."""
    if isinstance(value, time):
        return value.hour * 60 + value.minute
    if not isinstance(value, str):
        raise _problem(f"malformed time {value!r}: expected \"HH:MM\"")
    match = _TIME_RE.match(value.strip())
    if not match:
        raise _problem(f"malformed time {value!r}: expected \"HH:MM\" (00:00 to 23:59)")
    hours, minutes = int(match.group(1)), int(match.group(2))
    total = hours * 60 + minutes
    if total > MINUTES_PER_DAY or (total == MINUTES_PER_DAY and not allow_24):
        raise _problem(f"malformed time {value!r}: hours must be 00 to 23" + (" (or 24:00 as an end)" if not allow_24 else ""))
    return total


def _span(start: int, end: int) -> int:
    """Length in minutes of a shift from ``start`` to ``end`` (``end <= start`` runs past midnight)."""
    return end - start if end > start else end + MINUTES_PER_DAY - start


def format_minutes(minutes: int) -> str:
    """Minutes after midnight → ``"HH:MM"``."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _check_id(value: str, what: str) -> str:
    if not isinstance(value, str) or not ID_RE.match(value):
        raise _problem(f"invalid {what} id {value!r}: use lowercase letters, digits and _ , starting with a letter")
    return value


def _check_timezone(value: str) -> str:
    if not isinstance(value, str) or not value:
        raise _problem("time zone must be an IANA name such as Europe/London")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise _problem(f"unknown IANA time zone {value!r}") from None
    return value


def _check_patterns(value: list[str]) -> list[str]:
    for pattern in value:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise _problem(f"invalid regular expression {pattern!r}: {exc}") from None
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


# --------------------------------------------------------------------------------------------------
# schema: brand
# --------------------------------------------------------------------------------------------------


class Brand(_Model):
    name: str = Field(min_length=1)
    timezone: str
    x_handle: str = ""
    language: str = "en"  # the brand's default language for acknowledgements (ISO 639-1)
    locale: str = "en-GB"  # formatting of dates / times shown to customers

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return _check_timezone(value)

    @field_validator("x_handle")
    @classmethod
    def _strip_at(cls, value: str) -> str:
        return value.lstrip("@")

    @field_validator("language")
    @classmethod
    def _lang(cls, value: str) -> str:
        if not re.match(r"^[a-z]{2,3}$", value):
            raise _problem(f"language {value!r} must be an ISO 639 code such as en")
        return value


# --------------------------------------------------------------------------------------------------
# schema: teams and rota
# --------------------------------------------------------------------------------------------------


class Slot(_Model):
    """A weekly shift: on each of ``days``, from ``start`` to ``end`` (wall-clock, team's zone).

    ``end <= start`` means the shift runs overnight into the next day; ``end: "24:00"`` means midnight.
    """

    days: list[Day] = Field(min_length=1)
    start: int  # minutes after midnight
    end: int  # minutes after midnight; <= start means next day

    @field_validator("days", mode="before")
    @classmethod
    def _days(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list):
            value = [v.strip().lower()[:3] if isinstance(v, str) else v for v in value]
            if len(set(value)) != len(value):
                raise _problem("a day is listed twice")
        return value

    @field_validator("start", mode="before")
    @classmethod
    def _start(cls, value: Any) -> int:
        return _parse_hhmm(value, allow_24=False)

    @field_validator("end", mode="before")
    @classmethod
    def _end(cls, value: Any) -> int:
        return _parse_hhmm(value, allow_24=True)

    @model_validator(mode="after")
    def _length(self) -> "Slot":
        if self.start == self.end:
            raise _problem(
                f"zero-length slot {format_minutes(self.start)}-{format_minutes(self.end)} "
                "(use 00:00-24:00 for a whole day)"
            )
        return self

    @property
    def overnight(self) -> bool:
        """True when the slot ends after midnight (an end of exactly midnight is not overnight)."""
        return self.end < self.start and self.end != 0

    @property
    def length(self) -> int:
        return _span(self.start, self.end)

    def label(self, day: str) -> str:
        end = "24:00" if self.end == MINUTES_PER_DAY else format_minutes(self.end)
        return f"{day} {format_minutes(self.start)}-{end}"


class Override(_Model):
    """A dated exception replacing the weekly slots that *start* on ``date``.

    ``{date, closed: true}``: no shift starts that day. ``{date, start, end}``: this shift instead of the
    weekly ones (several entries for one date add up). An override also applies on a public holiday.
    """

    date: date
    closed: bool = False
    start: Optional[int] = None
    end: Optional[int] = None
    note: str = ""

    @field_validator("start", mode="before")
    @classmethod
    def _start(cls, value: Any) -> Optional[int]:
        return None if value is None else _parse_hhmm(value, allow_24=False)

    @field_validator("end", mode="before")
    @classmethod
    def _end(cls, value: Any) -> Optional[int]:
        return None if value is None else _parse_hhmm(value, allow_24=True)

    @model_validator(mode="after")
    def _shape(self) -> "Override":
        if self.closed:
            if self.start is not None or self.end is not None:
                raise _problem("an override is either closed: true or has start and end, not both")
        else:
            if self.start is None or self.end is None:
                raise _problem("an override needs closed: true, or both start and end")
            if self.start == self.end:
                raise _problem(f"zero-length override {format_minutes(self.start)}-{format_minutes(self.end)}")
        return self

    @property
    def length(self) -> int:
        return 0 if self.closed else _span(self.start, self.end)


class HolidayCalendar(_Model):
    """Public holidays from the ``holidays`` package: the team is off unless an override says otherwise."""

    country: str
    subdiv: Optional[str] = None

    @model_validator(mode="after")
    def _known(self) -> "HolidayCalendar":
        supported = holidays_lib.list_supported_countries()
        if self.country not in supported:
            raise _problem(f"unknown holiday country {self.country!r} (use an ISO 3166 code such as GB)")
        if self.subdiv is not None and self.subdiv not in supported[self.country]:
            known = ", ".join(supported[self.country]) or "none"
            raise _problem(f"unknown holiday subdivision {self.subdiv!r} for {self.country} (known: {known})")
        return self

    def build(self) -> holidays_lib.HolidayBase:
        return holidays_lib.country_holidays(self.country, subdiv=self.subdiv)


class Team(_Model):
    timezone: str
    description: str = ""
    slots: list[Slot] = Field(default_factory=list)
    holidays: Optional[HolidayCalendar] = None
    overrides: list[Override] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return _check_timezone(value)

    @model_validator(mode="after")
    def _no_overlaps(self) -> "Team":
        overlaps = _slot_overlaps(self.slots)
        if overlaps:
            index, message = overlaps[0]
            raise PydanticCustomError("overlap", message, {"slot": index})
        seen: dict[tuple[date, str], int] = {}
        for index, ov in enumerate(self.overrides):
            kind = "closed" if ov.closed else "open"
            other = "open" if ov.closed else "closed"
            if (ov.date, other) in seen:
                raise PydanticCustomError(
                    "override", f"override {ov.date} both closes the day and adds hours", {"override": index}
                )
            seen[(ov.date, kind)] = index
        timed: dict[date, list[tuple[int, int]]] = {}
        for index, ov in enumerate(self.overrides):
            if ov.closed:
                continue
            end = ov.start + ov.length
            for s, e in timed.get(ov.date, []):
                if ov.start < e and s < end:
                    raise PydanticCustomError(
                        "override", f"overlapping overrides on {ov.date}", {"override": index}
                    )
            timed.setdefault(ov.date, []).append((ov.start, end))
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _slot_overlaps(slots: Sequence[Slot]) -> list[tuple[int, str]]:
    """(index of the later slot, message) for every pair of overlapping weekly slots."""
    spans: list[tuple[int, int, int, str]] = []  # (start, end, slot index, label), minutes since Monday 00:00
    for index, slot in enumerate(slots):
        for day in slot.days:
            start = DAYS.index(day) * MINUTES_PER_DAY + slot.start
            spans.append((start, start + slot.length, index, slot.label(day)))
    found: list[tuple[int, str]] = []
    for i, (s1, e1, idx1, label1) in enumerate(spans):
        for s2, e2, idx2, label2 in spans[i + 1 :]:
            if idx1 != idx2 and _week_overlap(s1, e1, s2, e2):
                first, second = (label1, label2) if idx1 < idx2 else (label2, label1)
                found.append((max(idx1, idx2), f"overlapping slots {first} and {second}"))
    return sorted(found)


def _week_overlap(s1: int, e1: int, s2: int, e2: int) -> bool:
    for shift in (-MINUTES_PER_WEEK, 0, MINUTES_PER_WEEK):
        if s1 < e2 + shift and s2 + shift < e1:
            return True
    return False


# --------------------------------------------------------------------------------------------------
# schema: desks and routing
# --------------------------------------------------------------------------------------------------


class Desk(_Model):
    description: str = ""
    covered_by: list[str] = Field(default_factory=list)
    oncall: bool = False

    @field_validator("covered_by", mode="before")
    @classmethod
    def _one(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class Routing(_Model):
    default_desk: str
    escalation_desk: str
    oncall_desk: Optional[str] = None


# --------------------------------------------------------------------------------------------------
# schema: triage rules
# --------------------------------------------------------------------------------------------------


class Rule(_Model):
    """A matching rule: fires when any keyword (whole words / phrases) or any regex matches.

    Matching is case-insensitive. ``channels`` / ``languages`` restrict where the rule applies.
    ``weight`` counts towards the score of the intent or desk the rule belongs to.
    """

    name: str = ""
    keywords: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list)
    channels: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)
    weight: float = Field(default=1.0, gt=0)

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, value: list[str]) -> list[str]:
        return _check_patterns(value)

    @field_validator("keywords")
    @classmethod
    def _non_empty(cls, value: list[str]) -> list[str]:
        if any(not k.strip() for k in value):
            raise _problem("empty keyword")
        return value

    @field_validator("channels")
    @classmethod
    def _channels(cls, value: list[str]) -> list[str]:
        for channel in value:
            if channel not in CHANNELS:
                raise _problem(f"unknown channel {channel!r} (known: {', '.join(CHANNELS)})")
        return value

    @model_validator(mode="after")
    def _something(self) -> "Rule":
        if not self.keywords and not self.patterns:
            raise _problem("a rule needs keywords or patterns")
        return self


class DeskRule(Rule):
    """A desk rule; ``intents`` restricts it to those intents (alone, it matches every text of them)."""

    desk: str
    intents: list[Intent] = Field(default_factory=list)

    @model_validator(mode="after")
    def _something(self) -> "DeskRule":
        if not self.keywords and not self.patterns and not self.intents:
            raise _problem("a desk rule needs keywords, patterns or intents")
        return self


class HighReach(_Model):
    followers: int = Field(default=10000, ge=0)
    keywords: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list)
    desk: Optional[str] = None  # where high-reach items go (e.g. press); None keeps the triaged desk

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, value: list[str]) -> list[str]:
        return _check_patterns(value)


class TriageRules(_Model):
    intents: dict[Intent, list[Rule]] = Field(default_factory=dict)
    intent_order: list[Intent] = Field(
        default_factory=lambda: ["abuse", "spam", "complaint", "question", "praise"]
    )
    default_intent: Intent = "other"
    urgent: list[Rule] = Field(default_factory=list)
    desks: list[DeskRule] = Field(default_factory=list)
    references: dict[str, list[str]] = Field(default_factory=dict)
    personal_data: dict[str, list[str]] = Field(default_factory=dict)
    high_reach: HighReach = Field(default_factory=HighReach)

    @field_validator("references", "personal_data")
    @classmethod
    def _patterns(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for kind, patterns in value.items():
            _check_id(kind, "kind")
            for pattern in patterns:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise _problem(f"{kind}: invalid regular expression {pattern!r}: {exc}") from None
        return value


# --------------------------------------------------------------------------------------------------
# schema: SLA and templates
# --------------------------------------------------------------------------------------------------


class SlaTarget(_Model):
    first_response: int = Field(gt=0, description="minutes")
    next_response: int = Field(gt=0, description="minutes")
    business_hours: bool = False


TemplateSet = dict[str, dict[str, dict[str, str]]]  # kind → channel|default → language → jinja2 source


# --------------------------------------------------------------------------------------------------
# the whole file
# --------------------------------------------------------------------------------------------------


class BrandConfig(_Model):
    version: int
    brand: Brand
    teams: dict[str, Team] = Field(min_length=1)
    desks: dict[str, Desk] = Field(min_length=1)
    routing: Routing
    triage: TriageRules = Field(default_factory=TriageRules)
    sla: dict[str, dict[Priority, SlaTarget]]
    templates: TemplateSet

    # -- validation ------------------------------------------------------------------------------

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, value: Any) -> int:
        if value not in SUPPORTED_VERSIONS or isinstance(value, bool):
            raise _problem(f"unsupported version {value!r} (supported: {', '.join(map(str, SUPPORTED_VERSIONS))})")
        return value

    @field_validator("sla")
    @classmethod
    def _sla(cls, value: dict[str, dict[str, SlaTarget]]) -> dict[str, dict[str, SlaTarget]]:
        for channel in value:
            if channel != "default" and channel not in CHANNELS:
                raise _problem(f"unknown channel {channel!r} (use default or one of {', '.join(CHANNELS)})")
        default = value.get("default", {})
        missing = [p for p in PRIORITIES if p not in default]
        if missing:
            raise _problem(f"sla.default needs targets for {', '.join(missing)}")
        return value

    @field_validator("templates")
    @classmethod
    def _templates(cls, value: TemplateSet) -> TemplateSet:
        if "en" not in value.get("ack", {}).get("default", {}):
            raise _problem("templates.ack.default.en is required (the last fallback of every acknowledgement)")
        for kind, by_channel in value.items():
            _check_id(kind, "template kind")
            for channel in by_channel:
                if channel != "default" and channel not in CHANNELS:
                    raise _problem(f"{kind}: unknown channel {channel!r}")
        return value

    @model_validator(mode="after")
    def _cross_references(self) -> "BrandConfig":
        problems = _cross_check(self.model_dump(mode="python"))
        if problems:
            raise _CrossReferenceErrors(problems)
        return self

    # -- helpers ---------------------------------------------------------------------------------

    @property
    def desk_ids(self) -> list[str]:
        return list(self.desks)

    @property
    def team_ids(self) -> list[str]:
        return list(self.teams)

    @staticmethod
    def queue_name(desk_id: str) -> str:
        return QUEUE_PREFIX + desk_id

    def queue_names(self) -> dict[str, str]:
        return {desk: self.queue_name(desk) for desk in self.desks}

    def teams_covering(self, desk_id: str) -> list[str]:
        return list(self.desks[desk_id].covered_by)

    def desks_covered_by(self, team_id: str) -> list[str]:
        return [d for d, desk in self.desks.items() if team_id in desk.covered_by]

    def sla_target(self, channel: str, priority: str) -> SlaTarget:
        by_priority = self.sla.get(channel, {})
        if priority in by_priority:
            return by_priority[priority]
        return self.sla["default"][priority]

    def template(self, kind: str, channel: str = "default", language: str = "") -> str:
        """The template source for ``kind``, falling back channel → default and language → brand → en."""
        by_channel = self.templates.get(kind)
        if not by_channel:
            raise KeyError(f"no templates of kind {kind!r}")
        languages = [lang for lang in (language, self.brand.language, "en") if lang]
        for lang in languages:
            for chan in (channel, "default"):
                source = by_channel.get(chan, {}).get(lang)
                if source is not None:
                    return source
        for chan in (channel, "default"):
            if by_channel.get(chan):
                return next(iter(by_channel[chan].values()))
        raise KeyError(f"no template {kind}.{channel}.{language}")

    def render(self, kind: str, channel: str = "default", language: str = "", **variables: Any) -> str:
        """Render a template: missing variables render empty, runs of spaces collapse, ends are trimmed."""
        text = _compiled_template(self.template(kind, channel, language)).render(**variables)
        return re.sub(r"[ \t]{2,}", " ", text).strip()


class _CrossReferenceErrors(ValueError):
    """Several located problems found after field validation (kept apart from pydantic's own)."""

    def __init__(self, problems: list[tuple[tuple, str]]):
        self.problems = problems
        super().__init__("; ".join(m for _, m in problems))


def _cross_check(data: Mapping[str, Any]) -> list[tuple[tuple, str]]:
    """Checks that span sections (desks → teams, rules → desks, templates). Works on raw data too,
    so these problems are reported alongside field errors."""

    def mapping(value: Any) -> Mapping[str, Any]:
        return value if isinstance(value, Mapping) else {}

    def sequence(value: Any) -> list:
        return value if isinstance(value, list) else []

    teams = mapping(data.get("teams"))
    desks = mapping(data.get("desks"))
    problems: list[tuple[tuple, str]] = []
    for section, ids in (("team", teams), ("desk", desks)):
        for key in ids:
            if not isinstance(key, str) or not ID_RE.match(key):
                problems.append(
                    ((section + "s", key), f"invalid {section} id {key!r}: use lowercase letters, digits and _, "
                                            "starting with a letter")
                )
    for team_id, team in teams.items():
        # Overlaps among the slots that are valid on their own, even when the team has other errors.
        slots = sequence(mapping(team).get("slots")) if not isinstance(team, Team) else []
        valid: list[Slot] = []
        positions: list[int] = []
        for index, raw in enumerate(slots):
            try:
                valid.append(Slot.model_validate(raw))
                positions.append(index)
            except ValidationError:
                continue
        for index, message in _slot_overlaps(valid):
            problems.append((("teams", team_id, "slots", positions[index]), message))
    for desk_id, desk in desks.items():
        covered_by = mapping(desk).get("covered_by")
        if isinstance(covered_by, str):
            covered_by = [covered_by]
        if not covered_by:
            problems.append((("desks", desk_id, "covered_by"), f"desk {desk_id!r} is covered by no team"))
        for i, team in enumerate(sequence(covered_by)):
            if team not in teams:
                problems.append((("desks", desk_id, "covered_by", i), f"desk {desk_id!r} references unknown team {team!r}"))
    routing = mapping(data.get("routing"))
    for name in ("default_desk", "escalation_desk", "oncall_desk"):
        desk = routing.get(name)
        if desk is not None and desk not in desks:
            problems.append((("routing", name), f"unknown desk {desk!r}"))
    triage = mapping(data.get("triage"))
    for i, rule in enumerate(sequence(triage.get("desks"))):
        desk = mapping(rule).get("desk")
        if desk is not None and desk not in desks:
            problems.append((("triage", "desks", i, "desk"), f"triage rule names unknown desk {desk!r}"))
    high_reach_desk = mapping(triage.get("high_reach")).get("desk")
    if high_reach_desk is not None and high_reach_desk not in desks:
        problems.append((("triage", "high_reach", "desk"), f"triage rule names unknown desk {high_reach_desk!r}"))
    env = _template_env()
    for kind, by_channel in mapping(data.get("templates")).items():
        for channel, by_language in mapping(by_channel).items():
            for language, source in mapping(by_language).items():
                if not isinstance(source, str):
                    continue
                loc = ("templates", kind, channel, language)
                try:
                    ast = env.parse(source)
                except jinja2.TemplateSyntaxError as exc:
                    problems.append((loc, f"template does not parse: {exc.message} (template line {exc.lineno})"))
                    continue
                unknown = jinja2.meta.find_undeclared_variables(ast) - TEMPLATE_VARIABLES
                if unknown:
                    problems.append(
                        (loc, f"unknown template variable(s) {', '.join(sorted(unknown))} "
                              f"(available: {', '.join(sorted(TEMPLATE_VARIABLES))})")
                    )
    return problems


_ENV: Optional[jinja2.Environment] = None
_TEMPLATE_CACHE: dict[str, jinja2.Template] = {}


def _template_env() -> jinja2.Environment:
    global _ENV
    if _ENV is None:
        _ENV = jinja2.Environment(autoescape=False, keep_trailing_newline=False)
    return _ENV


def _compiled_template(source: str) -> jinja2.Template:
    template = _TEMPLATE_CACHE.get(source)
    if template is None:
        template = _TEMPLATE_CACHE[source] = _template_env().from_string(source)
    return template


# --------------------------------------------------------------------------------------------------
# entry points
# --------------------------------------------------------------------------------------------------


def load_config(path: str | Path) -> BrandConfig:
    """Read and validate a configuration file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([ConfigProblem(source=str(path), line=None, location="", message=f"cannot read: {exc.strerror or exc}")]) from None
    return parse_config(text, source=str(path))


def parse_config(text: str, source: str = "<config>") -> BrandConfig:
    """Validate configuration text; raise :class:`ConfigError` listing every problem with its line."""
    data, lines = _load_yaml(text, source)
    if not isinstance(data, dict):
        raise ConfigError([ConfigProblem(source=source, line=1, location="", message="the file must be a YAML mapping")])
    try:
        return BrandConfig.model_validate(data)
    except ValidationError as exc:
        problems = _problems_from(exc, data, lines, source)
    raise ConfigError(problems)


def _problems_from(exc: ValidationError, data: Any, lines: Mapping[tuple, int], source: str) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = [_make(source, lines, list(loc), message) for loc, message in _cross_check(data)]
    for error in exc.errors(include_url=False):
        loc = list(error["loc"])
        ctx = error.get("ctx") or {}
        if isinstance(ctx.get("error"), _CrossReferenceErrors):
            continue  # already reported by the raw cross-check above
        # Pydantic adds the tag of a constrained key / union member; it is not part of the file's path.
        loc = [part for part in loc if not (isinstance(part, str) and part.startswith(("function-", "literal[")))]
        if error["type"] == "overlap":
            loc = loc + ["slots", ctx["slot"]]
        elif error["type"] == "override":
            loc = loc + ["overrides", ctx["override"]]
        message = _message(error)
        problems.append(_make(source, lines, loc, message))
    unique = list(dict.fromkeys(problems))
    unique.sort(key=lambda p: (p.line or 0, p.location))
    return unique


def _make(source: str, lines: Mapping[tuple, int], loc: list, message: str) -> ConfigProblem:
    if loc and loc[-1] == "[key]":
        loc = loc[:-1]
    return ConfigProblem(source=source, line=_line_for(loc, lines), location=_format_loc(loc), message=message)


def _message(error: Mapping[str, Any]) -> str:
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
