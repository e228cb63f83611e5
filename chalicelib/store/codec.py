"""Reading tickets stored before their history was typed: the one place that reads the old prose back.

Before ``Ticket.decision`` triage's decision was kept only as text in ``Ticket.reasons`` (``acknowledge: yes
(complaint)``, ``tone neutral (confidence 0.84)``, after ``intent complaint (score 2): …``), an agent's label added
``labelled praise by ben`` and ``acknowledge: no (labelled praise)`` to them, and an agent's reply was the detail of
its ``replied`` timeline entry (``agent#request\\ntext``). A row without the typed attributes is read through
``upgraded`` (the DynamoDB codec, ``repositories.ticket_from_item``, and the memory twin alike); a row saved since
carries them, and nothing else reads the prose.
"""
from __future__ import annotations

import re
from dataclasses import replace

from chalicelib.domain.decision import TriageDecision
from chalicelib.domain.ticket import Event, ReplyRecord, Ticket
from chalicelib.domain.vocabulary import Intent, MaybeTone, maybe_tone

__all__ = ["decision_from_reasons", "reply_from_detail", "upgraded"]

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


def _event(event: Event) -> Event:
    if event.kind != "replied" or event.reply is not None:
        return event
    answer = reply_from_detail(event.detail)
    return Event(event.at, event.kind, answer.agent, answer)


def upgraded(ticket: Ticket) -> Ticket:
    """``ticket`` as typed now, when read from a row written before: triage's decision and the latest label's out
    of the prose of its reasons (which keep triage's explanation only), its agents' replies out of their timeline
    entries. A ticket that has its typed decision (or label) is returned as it is, but for old reply entries."""
    timeline = [_event(e) for e in ticket.timeline]
    if ticket.decision is not None or ticket.relabel is not None:
        return replace(ticket, timeline=timeline)
    triaged, _ = _split(ticket.reasons)
    return replace(ticket, timeline=timeline, reasons=triaged,
                   decision=decision_from_reasons(ticket.reasons, ticket.intent),
                   relabel=_relabel_from_reasons(ticket.reasons, ticket.intent))
