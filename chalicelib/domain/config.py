"""The brand configuration's schema: teams, rota, desks, routing, triage rules, SLA targets and templates.

Pure: pydantic models and the checks that span sections, nothing else. Reading ``chalicelib/brand.yaml``
(its header documents the format) and reporting every problem as ``file:line: location: problem`` is the
job of :mod:`chalicelib.configfile`; this module only says what a valid configuration is.

Validation collects problems rather than stopping at the first: field errors come from pydantic, and
:func:`cross_check` finds the problems that span sections (a desk naming an unknown team, a triage rule
naming an unknown desk, overlapping slots, a template that does not parse or uses an unknown variable).
It works on raw data too, so those problems are reported alongside the field errors of the same file.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, time
from typing import Any, Literal, TypeVar, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from chalicelib.domain import templates
from chalicelib.domain.mention import CHANNELS
from chalicelib.domain.vocabulary import Intent, Priority

__all__ = [
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
    "SentimentRule",
    "Negation",
    "NotRequests",
    "AckPolicy",
    "DEFAULT_ACK_CHANNELS",
    "OutboundRates",
    "DEFAULT_OUTBOUND_PER_MINUTE",
    "NEVER_ACKNOWLEDGED",
    "SlaTarget",
    "BusyAck",
    "LinkPolicy",
    "CrossReferenceErrors",
    "Location",
    "DAYS",
    "PRIORITIES",
    "INTENTS",
    "TEMPLATE_VARIABLES",
    "QUEUE_PREFIX",
    "DEFAULT_INTENT_ORDER",
    "cross_check",
    "format_minutes",
]

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
#: A priority and an intent as the brand file spells them: the text of a ``vocabulary.Priority`` and of a
#: ``vocabulary.Intent`` (``tests/unit/test_vocabulary.py`` checks they agree), kept as Literals so that the file's
#: validation messages stay as they are.
PriorityName = Literal["urgent", "normal"]
IntentName = Literal["complaint", "question", "praise", "spam", "abuse", "other"]
T = TypeVar("T")
#: Where a value sits in the file: mapping keys and sequence indexes from the top, e.g. ("teams", "day", "slots", 1).
Location = tuple[Any, ...]

SUPPORTED_VERSIONS = (1,)
DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PRIORITIES: tuple[Priority, ...] = tuple(Priority)
INTENTS: tuple[Intent, ...] = tuple(Intent)
#: How intent ties are broken when ``triage.intent_order`` is not given.
DEFAULT_INTENT_ORDER: tuple[IntentName, ...] = ("abuse", "spam", "complaint", "question", "praise")
#: Intents no acknowledgement policy may include.
NEVER_ACKNOWLEDGED: frozenset[Intent] = frozenset({Intent.PRAISE, Intent.SPAM, Intent.ABUSE})
#: Intents acknowledged when ``triage.acknowledge.intents`` is not given.
DEFAULT_ACKNOWLEDGED: tuple[IntentName, ...] = ("complaint", "question")
#: Whether a channel gets automatic acknowledgements when ``triage.acknowledge.channels`` does not name it (a channel
#: not listed here: yes). Bluesky: ``tagged``. Its guidelines for automated accounts ask that they reply only to a
#: person who tagged the account ("it must be an opt-in interaction, or else your bot may be taken for spam"), while
#: the product also reads replies to the brand's posts and quotes of them, and every acknowledgement notifies its
#: reader: a post that tags the brand (a mention, or a reply or quote whose text tags it) is acknowledged, an
#: untagged reply or quote is not. ``bluesky: true`` acknowledges them all, ``false`` none (README, "Bluesky").
DEFAULT_ACK_CHANNELS: dict[str, bool | str] = {"bluesky": "tagged"}
#: The ``channels`` setting that acknowledges only posts that tag the brand's account (Bluesky's opt-in).
TAGGED = "tagged"
TEMPLATE_VARIABLES = frozenset(
    {
        "name",
        "reference",
        "back_at",
        "back_in",
        "status_url",
        "incident_title",
        "incident_url",
        "incident_text",
        "incident_change",
        "dm_invite",
        "desk",
        "expected_wait",
        "ask_for",
    }
)
#: What an acknowledgement may never ask a customer to send, even by direct message: the desk's reference is enough
#: to find the case, and personal data is asked for (if ever) by an agent in private.
_PERSONAL_DATA_WORDS = re.compile(
    r"\b(?:e-?mail|phone|mobile number|address|post ?code|zip|card|account number|sort code|iban|bank|password|pin|"
    r"date of birth|birthday|passport|licen[cs]e number|social security|ssn|national insurance)\b",
    re.IGNORECASE,
)
QUEUE_PREFIX = "responder-desk-"
ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_TIME_RE = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")
MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY


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
        end = "" if allow_24 else " (or 24:00 as an end)"
        raise _problem(f"malformed time {value!r}: hours must be 00 to 23{end}")
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
    def _length(self) -> Slot:
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
    start: int | None = None
    end: int | None = None
    note: str = ""

    @field_validator("start", mode="before")
    @classmethod
    def _start(cls, value: Any) -> int | None:
        return None if value is None else _parse_hhmm(value, allow_24=False)

    @field_validator("end", mode="before")
    @classmethod
    def _end(cls, value: Any) -> int | None:
        return None if value is None else _parse_hhmm(value, allow_24=True)

    @model_validator(mode="after")
    def _shape(self) -> Override:
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
    def span(self) -> tuple[int, int] | None:
        """``(start, end)`` in minutes after midnight of ``date`` (``end`` passes 1440 when the shift runs
        overnight); None for a closed day."""
        if self.closed or self.start is None or self.end is None:
            return None
        return self.start, self.start + _span(self.start, self.end)

    @property
    def length(self) -> int:
        span = self.span
        return 0 if span is None else span[1] - span[0]


class HolidayCalendar(_Model):
    """Public holidays from the ``holidays`` package: the team is off unless an override says otherwise."""

    country: str
    subdiv: str | None = None

    @model_validator(mode="after")
    def _known(self) -> HolidayCalendar:
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
    holidays: HolidayCalendar | None = None
    overrides: list[Override] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return _check_timezone(value)

    @model_validator(mode="after")
    def _no_overlaps(self) -> Team:
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
            if ov.span is None:
                continue
            start, end = ov.span
            for s, e in timed.get(ov.date, []):
                if start < e and s < end:
                    raise PydanticCustomError(
                        "override", f"overlapping overrides on {ov.date}", {"override": index}
                    )
            timed.setdefault(ov.date, []).append((start, end))
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
    """Whether two spans of the week overlap, also across the week's end (Sunday night into Monday)."""
    return any(s1 < e2 + shift and s2 + shift < e1 for shift in (-MINUTES_PER_WEEK, 0, MINUTES_PER_WEEK))


# --------------------------------------------------------------------------------------------------
# schema: desks and routing
# --------------------------------------------------------------------------------------------------


class Desk(_Model):
    description: str = ""
    covered_by: list[str] = Field(default_factory=list)
    oncall: bool = False
    #: language → what the desk needs to pick a case up ("your booking reference and the train"), for the
    #: acknowledgement's invitation to continue in private (template variable ``ask_for``)
    ask_for: dict[str, str] = Field(default_factory=dict)

    @field_validator("covered_by", mode="before")
    @classmethod
    def _one(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("ask_for")
    @classmethod
    def _ask_for(cls, value: dict[str, str]) -> dict[str, str]:
        for language, text in value.items():
            if not re.match(r"^[a-z]{2,3}$", language):
                raise _problem(f"ask_for: language {language!r} must be an ISO 639 code such as en")
            if not text.strip():
                raise _problem(f"ask_for.{language} is empty")
            found = _PERSONAL_DATA_WORDS.search(text)
            if found:
                raise _problem(f"ask_for.{language} asks for personal data ({found.group(0)!r}): ask for the "
                               "reference the desk needs, never for contact, card, account or identity details")
        return value


class Routing(_Model):
    default_desk: str
    escalation_desk: str
    oncall_desk: str | None = None


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
    negatable: bool = False  # a hit right after a negation ("not great") does not count (``triage.negation``)
    alone: bool = True  # False: adds its weight only when another rule of the same intent matched

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
    def _something(self) -> Rule:
        if not self.keywords and not self.patterns:
            raise _problem("a rule needs keywords or patterns")
        return self


class DeskRule(Rule):
    """A desk rule; ``intents`` restricts it to those intents (alone, it matches every text of them)."""

    desk: str
    intents: list[IntentName] = Field(default_factory=list)

    @model_validator(mode="after")
    def _something(self) -> DeskRule:
        if not self.keywords and not self.patterns and not self.intents:
            raise _problem("a desk rule needs keywords, patterns or intents")
        return self


class HighReach(_Model):
    followers: int = Field(default=10000, ge=0)
    keywords: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list)
    desk: str | None = None  # where high-reach items go (e.g. press); None keeps the triaged desk

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, value: list[str]) -> list[str]:
        return _check_patterns(value)


class SentimentRule(_Model):
    """Adds ``weight`` to ``intent`` when the message's sentiment (VADER compound score, -1 to +1) is at or below
    ``below``, or at or above ``above`` (exactly one of the two)."""

    name: str = ""
    below: float | None = Field(default=None, ge=-1, le=1)
    above: float | None = Field(default=None, ge=-1, le=1)
    intent: IntentName
    weight: float = Field(default=1.0, gt=0)
    alone: bool = True  # False: adds its weight only when a rule of ``intent`` matched too

    @model_validator(mode="after")
    def _one_bound(self) -> SentimentRule:
        if (self.below is None) == (self.above is None):
            raise _problem("a sentiment rule needs exactly one of below or above")
        return self


class Negation(_Model):
    """Words that negate what follows (``not``, ``never``, and any word ending in ``n't``): a hit of a rule marked
    ``negatable`` with one of them among the ``window`` words before it does not count ("not great")."""

    words: list[str] = Field(default_factory=lambda: ["not", "never", "no", "nothing", "hardly", "without"])
    window: int = Field(default=3, ge=1, le=10)
    #: Phrases that name a problem only to say there is none ("no problem", "without issue", "no worries"): they are
    #: blanked out before intent rules are matched, so their words count for no intent.
    no_problem: list[str] = Field(default_factory=list)


class NamedPattern(_Model):
    """A regular expression with the name that the reasons give it."""

    name: str = Field(min_length=1)
    pattern: str = Field(min_length=1)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        return _check_patterns([value])[0]


class NotRequests(_Model):
    """Posts that are not a customer's request, whatever words they use: intent ``other``."""

    retweets: bool = True  # "RT @someone: ..." passes on someone else's post
    link_only_words: int = Field(default=2, ge=0)  # a post with a link and at most this many words of its own
    crowd_mentions: int = Field(default=0, ge=0)  # a post naming this many accounts or more (0: no limit)
    #: Regular expressions (case-sensitive) of posts that are no customer's request, e.g. a brand agent's signed
    #: reply ("... ^JAY"); each is named in the reasons by its ``name``.
    patterns: list[NamedPattern] = Field(default_factory=list)


class AckPolicy(_Model):
    """Who gets the automatic acknowledgement: messages of ``intents``; an ``other`` message when it asks something
    (a question rule matched) and ``other_if_question`` is on, or when its sentiment is at or below
    ``min_negative_sentiment``; any urgent message when ``urgent`` is on. Never praise, spam or abuse.

    ``channels`` turns the automatic acknowledgement on or off per channel (a channel not named keeps
    :data:`DEFAULT_ACK_CHANNELS`): off, the message still becomes a ticket on its desk, and nobody is answered
    until an agent is."""

    intents: list[IntentName] = Field(default_factory=lambda: list(DEFAULT_ACKNOWLEDGED))
    other_if_question: bool = True
    urgent: bool = True
    min_negative_sentiment: float | None = Field(default=None, ge=-1, le=1)
    channels: dict[str, bool | Literal["tagged"]] = Field(default_factory=dict)
    #: Decide with the learned scorer (``domain/scorer.py``, weights in ``chalicelib/triage_model.json``, trained by
    #: ``make triage-train`` on messages triaged by these rules): answer unless it is confident the message needs
    #: no answer, and pick the tone by its confidence. Off: the rules decide (``intents``, ``other_if_question``,
    #: ``min_negative_sentiment``) and the tone follows the rules' intent where the sentiment agrees.
    learned: bool = False
    #: Confident praise gets a thank-you reply (``thanks``) or none (``none``: left for the team to see).
    praise: Literal["thanks", "none"] = "thanks"
    #: How readily a message is answered at all: a message is left unanswered when the learned scorer's "needs no
    #: answer" probability is at or above this (higher: fewer silences, more chit-chat answered). None: the
    #: threshold chosen when the model was trained (``make triage-report`` prints the curve).
    sensitivity: float | None = Field(default=None, gt=0, le=1)
    #: The learned scorer's probability from which a reply's tone changes (None: the model's chosen thresholds):
    #: an apology (complaint), a thank-you (praise), "question received" (question).
    apology_min: float | None = Field(default=None, gt=0, le=1)
    thanks_min: float | None = Field(default=None, gt=0, le=1)
    question_min: float | None = Field(default=None, gt=0, le=1)

    @field_validator("channels", mode="before")
    @classmethod
    def _channels(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            for channel, on in value.items():
                if channel not in CHANNELS:
                    raise _problem(f"unknown channel {channel!r} (use one of {', '.join(CHANNELS)})")
                if not isinstance(on, bool) and on != TAGGED:
                    raise _problem(f"{channel}: true, false or tagged, not {on!r}")
        return value

    def on(self, channel: str) -> bool:
        """Whether ``channel`` gets automatic acknowledgements at all."""
        return self.channels.get(channel, DEFAULT_ACK_CHANNELS.get(channel, True)) is not False

    def tagged_only(self, channel: str) -> bool:
        """Whether ``channel`` acknowledges only posts that tag the brand's account (``tagged``)."""
        return self.channels.get(channel, DEFAULT_ACK_CHANNELS.get(channel, True)) == TAGGED

    @field_validator("intents")
    @classmethod
    def _never(cls, value: list[IntentName]) -> list[IntentName]:
        never = [intent for intent in value if intent in NEVER_ACKNOWLEDGED]
        if never:
            raise _problem(f"{', '.join(never)} is never acknowledged (praise needs no answer from a bot, spam none, "
                           "and abuse goes to a person)")
        return value


class TriageRules(_Model):
    intents: dict[IntentName, list[Rule]] = Field(default_factory=dict)
    intent_order: list[IntentName] = Field(default_factory=lambda: list(DEFAULT_INTENT_ORDER))
    default_intent: IntentName = "other"
    sentiment: list[SentimentRule] = Field(default_factory=list)
    negation: Negation = Field(default_factory=Negation)
    not_requests: NotRequests = Field(default_factory=NotRequests)
    acknowledge: AckPolicy = Field(default_factory=AckPolicy)
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


class BusyAck(_Model):
    """The in-hours busy acknowledgement (``domain.busy``): a new ticket on an open desk whose expected wait
    (backlog ÷ answers per hour over the last ``window_minutes``) exceeds ``threshold_minutes`` gets one
    acknowledgement of kind ``busy`` with the wait as a range; with fewer than ``min_answers`` answers in the
    window there is no estimate and nothing is sent. Needs ``templates.busy``."""

    enabled: bool = True
    threshold_minutes: int = Field(default=30, gt=0)
    window_minutes: int = Field(default=120, ge=60, le=24 * 60)  # answers are counted per hour, kept 3 days
    min_answers: int = Field(default=4, ge=1)


class LinkPolicy(_Model):
    """Where acknowledgements carry no URL: on the channels in ``no_url_in_public``, a public reply (a post anyone
    sees) leaves out the status link and the incident's link; the reference stays, and the customer follows it at
    ``GET /status`` (reference + handle or e-mail). A private reply (a DM) keeps the link. X charges far more for a
    post that contains a URL, hence the default."""

    no_url_in_public: list[str] = Field(default_factory=lambda: ["x"])

    @field_validator("no_url_in_public", mode="before")
    @classmethod
    def _channels(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list):
            for channel in value:
                if channel not in CHANNELS:
                    raise _problem(f"unknown channel {channel!r} (use one of {', '.join(CHANNELS)})")
            if len(set(value)) != len(value):
                raise _problem("a channel is listed twice")
        return value


#: What a platform charges per post, in US dollars: (a post, a post containing a URL). A budget on a channel that
#: is not listed here needs its prices in the brand file.
DEFAULT_POST_PRICES_USD: dict[str, tuple[float, float]] = {"x": (0.015, 0.20)}


class ChannelSpend(_Model):
    """A channel's paid-API budget for a day (the brand's time zone): the outbox holds a message whose price would
    take the day's spend past ``daily_usd`` until the next day (or until the budget is raised)."""

    daily_usd: float = Field(gt=0)
    per_post_usd: float | None = Field(default=None, ge=0)  # default: DEFAULT_POST_PRICES_USD
    per_post_with_url_usd: float | None = Field(default=None, ge=0)

    def price_usd(self, channel: str, *, with_url: bool) -> float:
        post, with_link = DEFAULT_POST_PRICES_USD.get(channel, (0.0, 0.0))
        if self.per_post_usd is not None:
            post = self.per_post_usd
        if self.per_post_with_url_usd is not None:
            with_link = self.per_post_with_url_usd
        elif self.per_post_usd is not None and channel not in DEFAULT_POST_PRICES_USD:
            with_link = post
        return with_link if with_url else post


def usd_micros(usd: float) -> int:
    """Dollars as whole micro-dollars: the spend is counted in integers, so that adding never drifts."""
    return int(round(usd * 1_000_000))


#: Sends a minute per channel when ``outbound.per_minute`` does not name the channel: each platform's documented
#: limit for the brand's account, as a sustained rate rounded down (the README's "Outbound rates per channel" has
#: the sources). A channel's token bucket holds that many sends, so a burst never exceeds one minute's worth.
DEFAULT_OUTBOUND_PER_MINUTE: dict[str, int] = {
    "x": 6,  # POST /2/tweets: 100 per 15 minutes per user, 10,000 per 24 hours per app (6.67 and 6.94 a minute)
    "facebook": 60,  # Pages API: 4,800 calls per engaged user per 24 hours; private replies use the Send API
    "messenger": 60,  # Send API: 300 calls a second per Page; the Page inbox stops above 40 messages a second
    "instagram": 12,  # private replies: 750 calls an hour per Instagram professional account (12.5 a minute)
    "bluesky": 8,  # PDS writes: 5,000 points an hour, 35,000 a day, a post costs 3 (11,666 a day, 8.1 a minute)
    "mastodon": 1,  # statuses: 300 per 3 hours per account, Mastodon's default (1.67 a minute)
    "email": 30,  # SES sending rate, shared with form: 1 message a second in the sandbox (half of it each)
    "form": 30,  # the other half of the SES account's sending rate (replies to the web form go by e-mail)
}


class OutboundRates(_Model):
    """The outbound rate per channel (``outbound.per_minute``): sends a minute, one token bucket per channel. A
    channel the file does not name keeps :data:`DEFAULT_OUTBOUND_PER_MINUTE`. The environment's
    ``OUTBOUND_PER_MINUTE``, when set, overrides every channel (``Services.rate_per_minute``)."""

    per_minute: dict[str, int] = Field(default_factory=dict)

    @field_validator("per_minute", mode="before")
    @classmethod
    def _rates(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            for channel, rate in value.items():
                if channel not in CHANNELS:
                    raise _problem(f"unknown channel {channel!r} (use one of {', '.join(CHANNELS)})")
                if isinstance(rate, bool) or not isinstance(rate, int):
                    raise _problem(f"{channel}: the rate must be a whole number of sends a minute, not {rate!r}")
                if rate < 1:
                    raise _problem(f"{channel}: the rate must be at least 1 send a minute, not {rate}")
        return value

    def rate(self, channel: str) -> int:
        """Sends a minute on ``channel``: the file's figure, else the platform's documented default."""
        return self.per_minute.get(channel, DEFAULT_OUTBOUND_PER_MINUTE[channel])


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
    sla: dict[str, dict[PriorityName, SlaTarget]]
    templates: TemplateSet
    busy: BusyAck = Field(default_factory=BusyAck)
    links: LinkPolicy = Field(default_factory=LinkPolicy)
    spend: dict[str, ChannelSpend] = Field(default_factory=dict)
    outbound: OutboundRates = Field(default_factory=OutboundRates)
    _derived: dict[str, Any] = PrivateAttr(default_factory=dict)

    def derived(self, name: str, build: Callable[[BrandConfig], T]) -> T:
        """What ``build`` computes from this configuration (compiled triage rules, say), computed once and kept
        with the configuration itself, so it lives and dies with it."""
        if name not in self._derived:
            self._derived[name] = build(self)
        value: T = self._derived[name]
        return value

    # -- validation ------------------------------------------------------------------------------

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, value: Any) -> int:
        if value not in SUPPORTED_VERSIONS or isinstance(value, bool):
            raise _problem(f"unsupported version {value!r} (supported: {', '.join(map(str, SUPPORTED_VERSIONS))})")
        return int(value)

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

    @field_validator("spend")
    @classmethod
    def _spend(cls, value: dict[str, ChannelSpend]) -> dict[str, ChannelSpend]:
        for channel, budget in value.items():
            if channel not in CHANNELS:
                raise _problem(f"spend: unknown channel {channel!r} (use one of {', '.join(CHANNELS)})")
            if channel not in DEFAULT_POST_PRICES_USD and budget.per_post_usd is None:
                raise _problem(f"spend.{channel}: per_post_usd is required (no default price for {channel})")
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
    def _cross_references(self) -> BrandConfig:
        data = self.model_dump(mode="python")
        if "busy" not in self.model_fields_set:
            del data["busy"]  # as in the file: a section left out is not a section given
        problems = cross_check(data)
        if problems:
            raise CrossReferenceErrors(problems)
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
        """The target for ``channel`` and ``priority`` (urgent / normal), falling back to ``sla.default``."""
        key = cast(PriorityName, priority)  # an unknown priority is a KeyError below, as for any missing key
        by_priority = self.sla.get(channel, {})
        if key in by_priority:
            return by_priority[key]
        return self.sla["default"][key]

    @property
    def busy_ack(self) -> BusyAck | None:
        """The busy acknowledgement's settings while it is on: enabled, and a ``busy`` template to send (a file
        without that template and without a ``busy`` section never sends one)."""
        return self.busy if self.busy.enabled and "busy" in self.templates else None

    def url_allowed(self, channel: str, *, private: bool) -> bool:
        """Whether a message to a customer on ``channel`` may carry a URL (``links.no_url_in_public``: a public
        reply on those channels carries none; a private one always may)."""
        return private or channel not in self.links.no_url_in_public

    def ask_for(self, desk_id: str, language: str = "") -> str:
        """What ``desk_id`` needs to pick a case up, in ``language`` (falling back to the brand's language, then
        en); empty when the desk says nothing."""
        desk = self.desks.get(desk_id)
        if desk is None:
            return ""
        for lang in (language, self.brand.language, "en"):
            if lang and lang in desk.ask_for:
                return desk.ask_for[lang]
        return ""

    def ack_template(self, kind: str, tone: str, channel: str = "default", language: str = "") -> str:
        """The template of an acknowledgement of ``kind`` in ``tone``: ``<kind>_<tone>`` (``ack_apology``,
        ``ack_question``, ``ack_thanks``, ``ack_neutral``) where the brand file has one, else ``kind``'s."""
        toned = self.templates.get(f"{kind}_{tone}") if tone else None
        if toned:
            wanted = language or self.brand.language
            # in the customer's language; failing that, a plain one in their language beats a toned one in another
            fallbacks = [wanted] if wanted in self._languages(kind, channel) else [wanted, self.brand.language, "en"]
            for lang in fallbacks:
                for chan in (channel, "default"):
                    source = toned.get(chan, {}).get(lang)
                    if source is not None:
                        return source
        return self.template(kind, channel, language)

    def _languages(self, kind: str, channel: str) -> set[str]:
        by_channel = self.templates.get(kind) or {}
        return set(by_channel.get(channel, {})) | set(by_channel.get("default", {}))

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


class CrossReferenceErrors(ValueError):
    """Several located problems found after field validation (kept apart from pydantic's own errors)."""

    def __init__(self, problems: list[tuple[Location, str]]):
        self.problems = problems
        super().__init__("; ".join(m for _, m in problems))


def cross_check(data: Mapping[str, Any]) -> list[tuple[Location, str]]:
    """Checks that span sections (desks → teams, rules → desks, templates), as (location, message) pairs.
    Works on raw data too, so these problems are reported alongside field errors."""

    def mapping(value: Any) -> Mapping[Any, Any]:
        return value if isinstance(value, Mapping) else {}

    def sequence(value: Any) -> list[Any]:
        return value if isinstance(value, list) else []

    teams = mapping(data.get("teams"))
    desks = mapping(data.get("desks"))
    problems: list[tuple[Location, str]] = []
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
                problems.append(
                    (("desks", desk_id, "covered_by", i), f"desk {desk_id!r} references unknown team {team!r}")
                )
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
    templates_data = mapping(data.get("templates"))
    busy = data.get("busy")
    if isinstance(busy, Mapping) and busy.get("enabled", True) is not False and "busy" not in templates_data:
        problems.append((("busy",), "the busy acknowledgement needs templates.busy (or set enabled: false)"))
    if "busy" in templates_data and "en" not in mapping(mapping(templates_data["busy"]).get("default")):
        problems.append((("templates", "busy"), "templates.busy.default.en is required (the last fallback of "
                                                "the busy acknowledgement)"))
    for kind, by_channel in templates_data.items():
        for channel, by_language in mapping(by_channel).items():
            for language, source in mapping(by_language).items():
                if isinstance(source, str):
                    problems.extend(_template_problems(("templates", kind, channel, language), source))
    return problems


def _template_problems(loc: Location, source: str) -> list[tuple[Location, str]]:
    """A template must parse in the environment customers' texts are rendered with, and use only the
    variables the product gives it."""
    try:
        unknown = templates.undeclared_variables(source) - TEMPLATE_VARIABLES
    except templates.TemplateSyntaxError as exc:
        return [(loc, f"template does not parse: {exc.message} (template line {exc.lineno})")]
    if unknown:
        return [(loc, f"unknown template variable(s) {', '.join(sorted(unknown))} "
                      f"(available: {', '.join(sorted(TEMPLATE_VARIABLES))})")]
    return []
