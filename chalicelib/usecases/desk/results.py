"""What the desk's actions answer: small typed outcomes, never a view. An outcome on a ticket carries the ticket as
saved, so a face that shows it (the JSON API) builds the view from it without loading it again, and a face that
does not (the web inbox, which redirects) builds nothing.

``to_json(view)`` is the API's answer: ``view`` turns the ticket into its view (``views.ticket_view``), called only
when the outcome has a ticket to show.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from chalicelib.domain.ticket import Ticket
from chalicelib.usecases.customers import Linked

#: The ticket's view, for the API's answer.
ViewOf = Callable[[Ticket], Mapping[str, object]]


@dataclass(frozen=True)
class Done:
    """An action done on one ticket: the ticket as saved."""

    ticket: Ticket = field(repr=False, compare=False)

    @property
    def ticket_id(self) -> str:
        return self.ticket.ticket_id

    @property
    def status(self) -> str:
        return self.ticket.status

    @property
    def desk(self) -> str:
        return self.ticket.desk

    def to_json(self, view: ViewOf) -> dict[str, object]:
        return {"ticket": view(self.ticket)}


@dataclass(frozen=True)
class TicketClaimed(Done):
    """The agent holds the ticket now."""


@dataclass(frozen=True)
class TicketAssigned(Done):
    """``agent`` holds the ticket now: a lead (or its holder) gave it to them."""

    agent: str = ""


@dataclass(frozen=True)
class TicketReleased(Done):
    """Back in the desk's queue (``waiting``), or, after a reply, waiting for the customer (``replied``)."""


@dataclass(frozen=True)
class TicketResolved(Done):
    pass


@dataclass(frozen=True)
class TicketDismissed(Done):
    """A listened ticket closed with no reply (``reason``: why, as the agent gave it)."""

    reason: str = ""


@dataclass(frozen=True)
class TicketReopened(Done):
    """Back in play, held by the agent who reopened it."""


@dataclass(frozen=True)
class NoteAdded(Done):
    pass


@dataclass(frozen=True)
class TicketTransferred(Done):
    """On its new desk (``desk``), from ``from_desk``."""

    from_desk: str = ""


@dataclass(frozen=True)
class ReplyQueued(Done):
    """The reply is on the outbox (``queued``), or was already, by the same request id (not ``queued``)."""

    queued: bool = True
    channel: str = ""
    private: bool = False
    request_id: str = ""

    @property
    def duplicate(self) -> bool:
        return not self.queued

    def to_json(self, view: ViewOf) -> dict[str, object]:
        if not self.queued:
            return {"ticket": view(self.ticket), "queued": False, "duplicate": True}
        return {"ticket": view(self.ticket), "queued": True, "channel": self.channel, "private": self.private}


@dataclass(frozen=True)
class TicketLabelled(Done):
    """The label given (``intent``, ``urgent``), and what triage had said (``triaged``)."""

    intent: str = ""
    urgent: bool = False
    triaged: str = ""

    def to_json(self, view: ViewOf) -> dict[str, object]:
        return {"ticket": view(self.ticket), "triaged": self.triaged}


@dataclass(frozen=True)
class NextTaken:
    """The ticket ``next`` claimed, or None and why (``message``)."""

    ticket: Ticket | None = field(default=None, repr=False, compare=False)
    message: str = ""

    @property
    def ticket_id(self) -> str | None:
        return self.ticket.ticket_id if self.ticket is not None else None

    def to_json(self, view: ViewOf) -> dict[str, object]:
        if self.ticket is None:
            return {"ticket": None, "message": self.message}
        return {"ticket": view(self.ticket)}


@dataclass(frozen=True)
class RepliedAnd(Done):
    """One step: a reply (``reply``), then the ticket resolved or released to wait for the customer (``then``:
    ``resolved`` / ``released``); ``ticket`` as saved after both."""

    reply: ReplyQueued | None = None
    then: str = ""

    def to_json(self, view: ViewOf) -> dict[str, object]:
        said = self.reply.to_json(lambda _: {}) if self.reply is not None else {}
        return {**said, "ticket": view(self.ticket), "then": self.then}


@dataclass(frozen=True)
class ResolvedAndNext(Done):
    """One step: the ticket resolved (``ticket``), then the next one taken (``next``: the ticket, or none and
    why). The API answers with the next ticket's view; ``resolved`` names the one resolved."""

    next: NextTaken = field(default_factory=NextTaken)

    def to_json(self, view: ViewOf) -> dict[str, object]:
        return {"resolved": {"ticket_id": self.ticket_id, "status": self.status}, **self.next.to_json(view)}


@dataclass(frozen=True)
class CustomersLinked:
    """Two identities are one customer (``customers.Linked``: changed or why not, the customer, their open ticket,
    the one merged into it, and every identity of theirs)."""

    linked: Linked

    def to_json(self, view: ViewOf | None = None) -> dict[str, object]:
        return self.linked.to_json()


#: What an action on a ticket answers.
Outcome = (TicketClaimed | TicketAssigned | TicketReleased | TicketResolved | TicketReopened | NoteAdded
           | TicketTransferred | TicketDismissed
           | ReplyQueued | TicketLabelled | CustomersLinked | RepliedAnd | ResolvedAndNext)
