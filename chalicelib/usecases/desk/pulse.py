"""What changed for an agent, cheaply, for pages that stay open: each covered desk's depth and oldest wait, and the
tickets the agent holds with what needs them now (the customer answered, the first response falls due soon), and the
urgent tickets waiting on the desk (the page may show a browser notification of each, if the agent allows).

The web inbox polls it (``GET /inbox/pulse``, every few seconds while the page is visible; docs/adr/0023) and the
API serves the same (``GET /agent/pulse``): one backlog count, one first-item query and, when anything waits, one
query of its first urgent tickets per covered desk, and the
held tickets by their index (``claims.held``) — never a scan. ``version`` changes exactly when something shown
changes, so a page redraws nothing when it has not.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.domain import wording
from chalicelib.domain.agent import Agent
from chalicelib.domain.history import Replied
from chalicelib.domain.ticket import Ticket
from chalicelib.services import Services
from chalicelib.usecases.desk import access, claims
from chalicelib.usecases.desk.views import queue_of

#: Urgent tickets named per desk (the first of its queue; one query of the backlog index's urgent keys)
URGENT_SHOWN = 5
#: How soon a first response falls due before a held ticket says so
DUE_SOON = timedelta(minutes=10)


@dataclass(frozen=True)
class DeskPulse:
    desk: str
    depth: int
    oldest_wait: str
    urgent: tuple[str, ...] = ()  # the first urgent tickets waiting on the desk (a browser may notify of each)


@dataclass(frozen=True)
class HeldPulse:
    """A ticket the agent holds: whether the customer wrote since the agent's latest answer (``customer_answered``),
    and the minutes until its first response is due (None: answered, or no target)."""

    ticket_id: str
    status: str
    customer_answered: bool
    due_in_minutes: int | None


@dataclass(frozen=True)
class PulseView:
    at: str
    desks: tuple[DeskPulse, ...]
    held: tuple[HeldPulse, ...]

    @property
    def news(self) -> tuple[str, ...]:
        """What needs the agent, in words (a page reads them out in a live region)."""
        said = [f"{d.desk}: urgent {'ticket' if len(d.urgent) == 1 else 'tickets'} {', '.join(d.urgent)} waiting"
                for d in self.desks if d.urgent]
        for h in self.held:
            if h.customer_answered:
                said.append(f"{h.ticket_id}: the customer wrote again")
            if h.due_in_minutes is not None and h.due_in_minutes <= DUE_SOON.total_seconds() // 60:
                said.append(f"{h.ticket_id}: first response due in {max(h.due_in_minutes, 0)} min"
                            if h.due_in_minutes > 0 else f"{h.ticket_id}: first response is overdue")
        return tuple(said)

    @property
    def version(self) -> str:
        """Changes when anything shown changes (not when only the time moves on)."""
        shown = {"desks": [[d.desk, d.depth, list(d.urgent)] for d in self.desks],
                 "held": [[h.ticket_id, h.status, h.customer_answered, h.due_in_minutes is not None and
                           h.due_in_minutes <= DUE_SOON.total_seconds() // 60] for h in self.held]}
        return hashlib.sha256(json.dumps(shown, sort_keys=True).encode()).hexdigest()[:16]

    def to_json(self) -> dict[str, object]:
        return {"at": self.at, "version": self.version, "news": list(self.news),
                "desks": [{"desk": d.desk, "depth": d.depth, "oldest_wait": d.oldest_wait,
                           "urgent": list(d.urgent)}
                          for d in self.desks],
                "held": [{"ticket_id": h.ticket_id, "status": h.status, "customer_answered": h.customer_answered,
                          "due_in_minutes": h.due_in_minutes} for h in self.held]}


def _customer_answered(ticket: Ticket) -> bool:
    answers = [e.at for e in ticket.timeline if isinstance(e, Replied)]
    return bool(answers) and ticket.last_customer_at > max(answers)


def _due_in(ticket: Ticket, now: datetime) -> int | None:
    if ticket.first_response_at is not None or ticket.first_response_due is None:
        return None
    return int((ticket.first_response_due - now).total_seconds() // 60)


def pulse(svc: Services, agent: Agent) -> PulseView:
    """The agent's desks and held tickets, as they stand now."""
    now = svc.now()
    desks = []
    for desk in access.covered_desks(svc, agent):
        depth, oldest = queue_of(svc, desk)
        urgent = svc.tickets.queue_page(desk, "waiting", urgent=True, limit=URGENT_SHOWN).tickets if depth else []
        desks.append(DeskPulse(desk=desk, depth=depth, oldest_wait=wording.wait(now - oldest) if oldest else "",
                               urgent=tuple(t.ticket_id for t in urgent)))
    held = tuple(HeldPulse(ticket_id=t.ticket_id, status=t.status, customer_answered=_customer_answered(t),
                           due_in_minutes=_due_in(t, now)) for t in claims.held(svc, agent))
    return PulseView(at=now.isoformat(), desks=tuple(desks), held=held)
