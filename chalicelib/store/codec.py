"""How a ticket's history is kept, and reading tickets stored before it was typed: the one place that reads the old
prose back.

A timeline entry is stored as its kind and its fields (``event_record``; an entry's ``at`` is its own attribute):
``{"kind": "claimed", "data": {"agent": "ana"}}``. A row written before the entries were typed has the kind and a
line of prose instead (``detail``; the words each entry's ``detail`` still says), read back by ``event_from_row``.

Before ``Ticket.decision`` triage's decision was kept only as text in ``Ticket.reasons`` (``acknowledge: yes
(complaint)``, ``tone neutral (confidence 0.84)``, after ``intent complaint (score 2): …``), an agent's label added
``labelled praise by ben`` and ``acknowledge: no (labelled praise)`` to them, and an agent's reply was the detail of
its ``replied`` timeline entry (``agent#request\\ntext``). A row without the typed attributes is read through
``upgraded`` (the DynamoDB codec, ``repositories.ticket_from_item``, and the memory twin alike); a row saved since
carries them, and nothing else reads the prose.
"""
from __future__ import annotations

import re
import typing
from collections.abc import Mapping
from dataclasses import MISSING, fields, replace
from datetime import datetime
from enum import StrEnum

from chalicelib.domain import history as h
from chalicelib.domain.decision import TriageDecision
from chalicelib.domain.history import Event, EventKind, ReplyRecord
from chalicelib.domain.ticket import Ticket
from chalicelib.domain.vocabulary import Intent, MaybeTone, maybe_tone

__all__ = ["decision_from_reasons", "event_from_row", "event_record", "reply_from_detail", "upgraded"]

_ACKNOWLEDGE = "acknowledge: "
_LABELLED = "labelled "
_TONE = re.compile(r"^tone (\w+)(?: \(confidence (\d(?:\.\d+)?)\))?$")


def _split(reasons: list[str]) -> tuple[list[str], list[str]]:
    """Triage's reasons, and what agents' labels added after them (from the first ``labelled …`` line)."""
    at = next((i for i, r in enumerate(reasons) if r.startswith(_LABELLED)), len(reasons))
    return reasons[:at], reasons[at:]


def _acknowledge(reason: str) -> tuple[bool, str]:
    verdict, _, rest = reason[len(_ACKNOWLEDGE):].partition(" ")
    return verdict == "yes", rest.strip().removeprefix("(").removesuffix(")")


def decision_from_reasons(reasons: list[str], intent: str) -> TriageDecision | None:
    """Triage's decision as an old row worded it in ``reasons`` (before any label); None when they hold none (a
    ticket from before the acknowledgement policy). ``intent``: the ticket's, when no ``intent …`` reason says
    which intent triage gave."""
    triaged, _ = _split(reasons)
    verdict = next((r for r in triaged if r.startswith(_ACKNOWLEDGE)), None)
    if verdict is None:
        return None
    answered, why = _acknowledge(verdict)
    given = next((r.split()[1].rstrip(":") for r in triaged if r.startswith("intent ") and len(r.split()) > 1),
                 intent)
    tone: MaybeTone = ""
    confidence: float | None = None
    for reason in triaged:
        found = _TONE.match(reason)
        if found:
            tone = maybe_tone(found.group(1))
            confidence = float(found.group(2)) if found.group(2) else None
    return TriageDecision(intent=Intent(given), answered=answered, why=why, tone=tone, confidence=confidence)


def _relabel_from_reasons(reasons: list[str], intent: str) -> TriageDecision | None:
    """The latest label's decision as an old row worded it (``acknowledge: no (labelled praise)``); None when the
    ticket was never labelled."""
    _, labels = _split(reasons)
    verdict = next((r for r in reversed(labels) if r.startswith(_ACKNOWLEDGE)), None)
    if verdict is None:
        return None
    answered, why = _acknowledge(verdict)
    return TriageDecision(intent=Intent(intent), answered=answered, why=why)


def reply_from_detail(detail: str) -> ReplyRecord:
    """An agent's reply as an old row kept it: ``agent`` or ``agent#request``, a line break, the text."""
    who, _, text = detail.partition("\n")
    agent, _, request_id = who.partition("#")
    return ReplyRecord(agent=agent, request_id=request_id, text=text)


def upgraded(ticket: Ticket) -> Ticket:
    """``ticket`` as typed now, when read from a row written before: triage's decision and the latest label's out
    of the prose of its reasons (which keep triage's explanation only). A ticket that has its typed decision (or
    label) is returned as it is. (Its timeline entries are read typed by ``event_from_row``.)"""
    if ticket.decision is not None or ticket.relabel is not None:
        return ticket
    triaged, _ = _split(ticket.reasons)
    return replace(ticket, reasons=triaged,
                   decision=decision_from_reasons(ticket.reasons, ticket.intent),
                   relabel=_relabel_from_reasons(ticket.reasons, ticket.intent))


# ------------------------------------------------------------------------------------------------ timeline entries
#: The type of each kind of entry (several kinds share ``Sent`` and ``Released``)
_TYPES: dict[EventKind, type[Event]] = {
    EventKind.RECEIVED: h.Received, EventKind.QUEUED: h.Queued, EventKind.ESCALATED: h.Escalated,
    EventKind.ACK_QUEUED: h.AckQueued, EventKind.SCHEDULED: h.Scheduled, EventKind.WAITING: h.WaitingForRate,
    EventKind.REPLY_FAILED: h.ReplyFailed, EventKind.REPLY_UNCONFIRMED: h.ReplyUnconfirmed,
    EventKind.ACK_EXPIRED: h.AckExpired, EventKind.SLA_BREACHED: h.SlaBreached, EventKind.REOPENED: h.Reopened,
    EventKind.MERGED: h.Merged, EventKind.MERGED_INTO: h.MergedInto, EventKind.LINK_SUGGESTED: h.LinkSuggested,
    EventKind.CLAIMED: h.Claimed, EventKind.RELEASED: h.Released, EventKind.AWAITING_CUSTOMER: h.Released,
    EventKind.REPLIED: h.Replied, EventKind.NOTE: h.Noted, EventKind.LABELLED: h.Labelled,
    EventKind.TRANSFERRED: h.Transferred, EventKind.REOPENED_BY_AGENT: h.ReopenedByAgent,
    EventKind.RESOLVED: h.Resolved, EventKind.DISMISSED: h.Dismissed,
    **{kind: h.Sent for kind in (EventKind.ACKNOWLEDGED, EventKind.CLOSING, EventKind.BUSY, EventKind.REPLY,
                                 EventKind.INCIDENT_UPDATE, EventKind.INCIDENT_RESOLVED,
                                 EventKind.INCIDENT_FOLLOWUP)},
}
#: The outbox kind of the message each ``Sent`` kind records, where the two are not spelt alike
_SENT_MESSAGES = {EventKind.ACKNOWLEDGED: "ack", EventKind.REPLY: "reply"}
#: What a kind itself says about its entry (the message a ``Sent`` was; whether a release awaits the customer)
_IMPLIED: dict[EventKind, dict[str, object]] = {
    **{kind: {"message": _SENT_MESSAGES.get(kind, str(kind))} for kind, cls in _TYPES.items() if cls is h.Sent},
    EventKind.RELEASED: {"awaiting_customer": False}, EventKind.AWAITING_CUSTOMER: {"awaiting_customer": True},
}


def _encode(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, ReplyRecord):
        return value.to_dict()
    if isinstance(value, StrEnum):
        return str(value)
    return value


def event_record(event: Event) -> tuple[str, dict[str, object] | None]:
    """An entry as stored: its kind, and its fields but ``at`` (those the kind implies, and defaults, left out;
    None when nothing is left)."""
    if isinstance(event, h.Unrecognised):
        return event.raw_kind, ({"text": event.text} if event.text else None)
    implied = _IMPLIED.get(EventKind(event.kind), {})
    data = {f.name: _encode(getattr(event, f.name)) for f in fields(event)
            if f.name != "at" and f.name not in implied and getattr(event, f.name) != f.default}
    return str(event.kind), data or None


_HINTS: dict[type[Event], dict[str, object]] = {}


def _hints(cls: type[Event]) -> dict[str, object]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _decode(cls: type[Event], name: str, value: object) -> object:
    hint = _hints(cls).get(name)
    wanted = set(typing.get_args(hint)) | {hint}
    if datetime in wanted:
        return datetime.fromisoformat(str(value)) if value else None
    if ReplyRecord in wanted and isinstance(value, Mapping):
        return ReplyRecord.from_dict({str(k): str(v) for k, v in value.items()})
    if h.ReleaseReason in wanted:
        return _release_reason(str(value))
    return value


def _make(cls: type[Event], at: datetime, data: Mapping[str, object]) -> Event:
    known = {f.name for f in fields(cls)}
    values = {name: _decode(cls, name, value) for name, value in data.items() if name in known}
    missing = [f.name for f in fields(cls)
               if f.name != "at" and f.name not in values and f.default is MISSING and f.default_factory is MISSING]
    values.update({name: "" for name in missing})  # a field a row lacks reads as empty, never as a failed read
    return cls(at=at, **values)  # the fields of the kind's type, decoded by their hints


#: Kinds rows were written with before the timeline named each thing by one word: an agent's reply was ``replied``
#: when answered and ``reply`` when sent, now ``reply_sent``.
_RENAMED = {"reply": str(EventKind.REPLY)}


def event_from_row(at: datetime, kind: str, data: Mapping[str, object] | None, detail: str = "",
                   reply: Mapping[str, object] | None = None) -> Event:
    """An entry from its row: its kind and fields, or (a row from before the entries were typed) its kind and the
    prose of ``detail`` (with an agent's answer in ``reply``, or in the prose before that). A kind this version does
    not know is kept as it was (``Unrecognised``)."""
    try:
        known = EventKind(_RENAMED.get(kind, kind))
    except ValueError:
        return h.Unrecognised(at, kind, str((data or {}).get("text") or detail or ""))
    cls = _TYPES[known]
    if data is None:
        data = _from_prose(known, detail or "", reply)
    return _make(cls, at, {**data, **_IMPLIED.get(known, {})})


_ESCALATED = re.compile(r"^(?P<from_desk>.*) closed; on-call desk (?P<to_desk>.*)$")
_SLA = re.compile(r"^response was due (?P<due>\S+) \((?P<late>-?\d+) min late\)$")
_LABELLED_LINE = re.compile(r"^(?P<agent>.*?): (?P<intent>\w+)(?P<urgent>, urgent)? \(triage: (?P<triaged>\w*)\)$")


def _release_reason(text: str) -> h.ReleaseReason:
    return h.ReleaseReason.EXPIRED if text == h.ReleaseReason.EXPIRED else h.ReleaseReason.BY_AGENT


def _message_and(detail: str, name: str) -> dict[str, object]:
    """``kind: rest`` (the message's outbox kind, then ``name``)."""
    message, _, rest = detail.partition(":")
    return {"message": message.strip(), name: rest.strip()}


def _from_prose(kind: EventKind, detail: str, reply: Mapping[str, object] | None) -> dict[str, object]:
    """The fields of an entry as a row from before they were typed worded them in ``detail``."""
    cls = _TYPES[kind]
    if cls is h.Received:
        return {"follow_up": True} if detail == "follow-up" else {"channel": detail}
    if cls is h.Escalated:
        found = _ESCALATED.match(detail)
        return found.groupdict() if found else {"from_desk": detail, "to_desk": ""}
    if cls in (h.AckQueued, h.Sent):
        return {"back_at" if cls is h.AckQueued else "expires_at": detail or None}
    if cls is h.Scheduled:
        return _message_and(detail, "slot")
    if cls is h.WaitingForRate or cls is h.ReplyUnconfirmed:
        return _message_and(detail, "why")
    if cls is h.ReplyFailed:
        return _message_and(detail, "error")
    if cls is h.SlaBreached:
        found = _SLA.match(detail)
        return {"due": found["due"], "minutes_late": int(found["late"])} if found else {"due": None}
    if cls in (h.Merged, h.MergedInto):
        return {"ticket_id": detail}
    if cls is h.LinkSuggested:
        return {"identity": detail}
    if cls is h.Released:
        by = detail.removeprefix("released by").strip() if detail.startswith("released by") else ""
        return {"reason": detail, "by": by}
    if cls is h.Replied:
        answer = ReplyRecord.from_dict({str(k): str(v) for k, v in reply.items()}) if reply else \
            reply_from_detail(detail)
        return {"answer": answer}
    if cls is h.Noted:
        agent, _, text = detail.partition(": ")
        return {"agent": agent, "text": text}
    if cls is h.Labelled:
        found = _LABELLED_LINE.match(detail)
        if found is None:
            return {"agent": detail, "intent": ""}
        return {"agent": found["agent"], "intent": found["intent"], "urgent": bool(found["urgent"]),
                "triaged": found["triaged"]}
    if cls in (h.Claimed, h.ReopenedByAgent, h.Resolved):
        return {"agent": detail}
    if cls is h.Queued or cls is h.Transferred:
        return {"desk": detail}
    return {}  # the kind says it all (reopened, ack_expired)
