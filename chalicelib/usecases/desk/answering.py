"""An agent's answer to the customer, however it was written (a reply, an approved WhatsApp template): recorded on
the ticket once per request id, queued on the outbox to the customer's channel, and counted as the desk's first
response when it is one."""
from __future__ import annotations

from datetime import datetime

from chalicelib.domain.agent import Agent
from chalicelib.domain.history import Replied
from chalicelib.domain.outbound import ReplyTarget
from chalicelib.domain.ticket import Ticket
from chalicelib.services import Services
from chalicelib.usecases.desk.access import act_as_holder
from chalicelib.usecases.replies import queue_reply


def answer_customer(svc: Services, agent: Agent, ticket: Ticket, *, text: str, request_id: str,
                    target: ReplyTarget) -> tuple[Ticket, bool]:
    """The ticket after ``agent`` answered with ``text`` (as the holder), and whether it was queued: False when this
    agent's request ``request_id`` was answered already (a retried request sends nothing twice)."""
    if request_id and any(answer.agent == agent.username and answer.request_id == request_id
                          for _, answer in ticket.replies):
        return ticket, False

    def answer(t: Ticket, now: datetime) -> tuple[bool, int]:
        """Whether this is the ticket's first response, and which reply it is."""
        first = t.first_response_at is None
        sequence = sum(1 for e in t.timeline if isinstance(e, Replied)) + 1
        t.replied(agent.username, now, text=text, request_id=request_id)
        return first, sequence

    answered = act_as_holder(svc, agent, ticket.ticket_id, answer, current=ticket)
    updated, (first, sequence) = answered.ticket, answered.result
    queue_reply(svc, updated, kind="reply", key=f"reply#{ticket.ticket_id}#{request_id or sequence}", text=text,
                target=target)
    if first:
        svc.answers.record(updated.desk, svc.now())
    return updated, True
