"""Search for agents: by reference (``R…``, exact), or by a customer's identity or handle — ``x@pat``, ``@pat``,
``email#ada@example.org``, ``ada@example.org``, ``bluesky@pat.bsky.social``, ``mastodon@pat@mastodon.social``,
``x#1234`` — answered with the customer, their identities and their tickets.

What is indexed: the reference is the tickets table's key (one read); an identity is the customers table's key
(one read) and a customer's tickets are the tickets' ``by_customer`` index (one query, then a read per ticket;
the latest ``views.HISTORY`` are shown). The words of the messages are not indexed yet (docs/adr/0022).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from chalicelib.domain.agent import Agent
from chalicelib.domain.identity import InvalidIdentity, parse_identity
from chalicelib.services import Services
from chalicelib.usecases.desk import access
from chalicelib.usecases.desk.views import HistoryTicket, customer_history

_REFERENCE = re.compile(r"^R[0-9A-Z]{8}$")


@dataclass(frozen=True)
class CustomerFound:
    """A customer a search found: their id, every identity of theirs, and their tickets (latest first)."""

    customer_id: str
    identities: tuple[str, ...]
    tickets: tuple[HistoryTicket, ...]

    def to_json(self) -> dict[str, object]:
        return {"customer_id": self.customer_id, "identities": list(self.identities),
                "tickets": [t.to_json() for t in self.tickets]}


@dataclass(frozen=True)
class SearchResult:
    """What a search found: how the query was read (``matched``: reference, identity or nothing), the identities
    tried, the customers found, and a sentence when nothing was."""

    query: str
    matched: str
    tried: tuple[str, ...]
    customers: tuple[CustomerFound, ...]
    message: str = ""

    @property
    def tickets(self) -> tuple[HistoryTicket, ...]:
        return tuple(t for c in self.customers for t in c.tickets)

    def to_json(self) -> dict[str, object]:
        return {"query": self.query, "matched": self.matched, "tried": list(self.tried),
                "customers": [c.to_json() for c in self.customers], "message": self.message}


def candidates(query: str) -> list[str]:
    """The stored identities a query may mean: itself when it parses, else the handle or address it looks like on
    each channel that has them (``@pat`` is an X handle, a Bluesky handle if it has a dot, a Mastodon one with an
    instance; ``ada@example.org`` an e-mail address)."""
    q = query.strip()
    tried: list[str] = []

    def attempt(text: str) -> None:
        try:
            identity = parse_identity(text)
        except InvalidIdentity:
            return
        if identity not in tried:
            tried.append(identity)

    attempt(q)
    if tried:
        return tried
    bare = q.lstrip("@")
    if "@" in bare:  # user@instance or an address
        attempt(f"mastodon@{bare}")
        attempt(f"email#{bare}")
    else:
        attempt(f"x@{bare}")
        if "." in bare:
            attempt(f"bluesky@{bare}")
    return tried


def search(svc: Services, agent: Agent, query: str) -> SearchResult:
    """A reference opens its ticket (its customer and their tickets); an identity or handle finds its customer.
    The agent may search on shift or not (a read); a ticket on a desk their teams do not cover is refused as
    ``show`` refuses it."""
    q = query.strip()
    if _REFERENCE.match(q.upper()):
        ticket = svc.tickets.get(q.upper())
        if ticket is None:
            return SearchResult(q, "reference", (), (), f"No ticket {q.upper()}.")
        access.may_see(svc, agent, ticket)
        found = _customer(svc, ticket.customer_id)
        own = HistoryTicket(ticket_id=ticket.ticket_id, status=ticket.status, desk=ticket.desk,
                            channel=ticket.channel, first_contact_at=ticket.first_contact_at.isoformat())
        if ticket.ticket_id not in {t.ticket_id for t in found.tickets}:  # a customer since forgotten
            found = CustomerFound(found.customer_id, found.identities, (own, *found.tickets))
        return SearchResult(q, "reference", (), (found,))
    tried = candidates(q)
    customers: list[CustomerFound] = []
    for identity in tried:
        customer_id = svc.customers.lookup(identity)
        if customer_id and customer_id not in {c.customer_id for c in customers}:
            customers.append(_customer(svc, customer_id))
    if customers:
        return SearchResult(q, "identity", tuple(tried), tuple(customers))
    if not tried:
        return SearchResult(q, "nothing", (), (), "Search by a reference (R…), an identity (x#…, email#…) or a "
                                                  "handle (x@pat, @pat, bluesky@…, mastodon@…). The words of "
                                                  "messages are not searchable yet.")
    return SearchResult(q, "identity", tuple(tried), (), f"No customer is known as {', '.join(tried)}.")


def _customer(svc: Services, customer_id: str) -> CustomerFound:
    return CustomerFound(customer_id=customer_id, identities=tuple(sorted(svc.customers.identities(customer_id))),
                         tickets=customer_history(svc, customer_id))
