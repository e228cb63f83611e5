"""The whole brand file: ``version`` and every section together (:class:`BrandConfig`), and the checks that span
sections (:func:`cross_check`): a desk naming an unknown team, a routing entry or a triage rule naming an unknown
desk, overlapping slots, a busy acknowledgement without its template, a template that does not parse or uses an
unknown variable."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

from pydantic import Field, PrivateAttr, ValidationError, field_validator, model_validator

from chalicelib.domain.config.base import ID_RE, PRIORITIES, Location, PriorityName, _check_id, _Model, _problem
from chalicelib.domain.config.brand import Brand
from chalicelib.domain.config.delivery import (
    DEFAULT_POST_PRICES_USD,
    BusyAck,
    ChannelSpend,
    LinkPolicy,
    OutboundRates,
    SlaTarget,
)
from chalicelib.domain.config.listening import Listening
from chalicelib.domain.config.notify import NotifyConfig, notify_problems
from chalicelib.domain.config.rota import QUEUE_PREFIX, Desk, Slot, Team, _slot_overlaps
from chalicelib.domain.config.routing import Routing
from chalicelib.domain.config.saved_replies import SavedReply, saved_reply_problem
from chalicelib.domain.config.templates import TemplateSet, _template_problems
from chalicelib.domain.config.triage import TriageRules
from chalicelib.domain.config.whatsapp import WhatsAppConfig
from chalicelib.domain.mention import CHANNELS

T = TypeVar("T")

SUPPORTED_VERSIONS = (1,)


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
    saved_replies: tuple[SavedReply, ...] = ()
    notify: NotifyConfig = Field(default_factory=NotifyConfig)  # where desks' work goes besides the inbox
    whatsapp: WhatsAppConfig = Field(default_factory=WhatsAppConfig)  # approved templates (after 24 hours)
    listening: Listening = Field(default_factory=Listening)  # posts about the brand that do not tag it (ADR 0032)
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

    def language_of(self, source: str) -> str:
        """The language a template source (as ``template`` or ``ack_template`` gave it) is written in: the key it
        is filed under in the brand file; the brand's language for a source it does not hold."""
        for by_channel in self.templates.values():
            for by_language in by_channel.values():
                for language, text in by_language.items():
                    if text == source:
                        return language
        return self.brand.language

    def _languages(self, kind: str, channel: str) -> set[str]:
        by_channel = self.templates.get(kind) or {}
        return set(by_channel.get(channel, {})) | set(by_channel.get("default", {}))

    def saved_reply(self, reply_id: str) -> SavedReply | None:
        """The brand file's saved reply of that id, or None."""
        return next((entry for entry in self.saved_replies if entry.id == reply_id), None)

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
    listening_desk = mapping(data.get("listening")).get("desk")
    if listening_desk and listening_desk not in desks:
        problems.append((("listening", "desk"), f"listening names unknown desk {listening_desk!r}"))
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
    entries = data.get("saved_replies")
    problems.extend(_saved_reply_problems(list(entries) if isinstance(entries, list | tuple) else [], desks))
    problems.extend(notify_problems(data.get("notify"), desks, teams))
    return problems


def _saved_reply_problems(entries: list[Any], desks: Mapping[Any, Any]) -> list[tuple[Location, str]]:
    """``saved_replies``: ids once each, desks that exist, texts that parse and use only a saved reply's
    variables."""
    problems: list[tuple[Location, str]] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            continue
        reply_id = entry.get("id")
        name = repr(reply_id) if isinstance(reply_id, str) else f"#{i + 1}"
        if isinstance(reply_id, str):
            if reply_id in seen:
                problems.append((("saved_replies", i, "id"), f"saved reply {name} is defined twice"))
            seen.add(reply_id)
        named = entry.get("desks")
        for j, desk in enumerate(named if isinstance(named, list | tuple) else []):
            if desk not in desks:
                problems.append((("saved_replies", i, "desks", j), f"saved reply {name} names unknown desk {desk!r}"))
        source = entry.get("text")
        problem = saved_reply_problem(source) if isinstance(source, str) else None
        if problem:
            problems.append((("saved_replies", i, "text"), f"saved reply {name}: {problem}"))
    return problems
