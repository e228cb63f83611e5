"""Search for agents: by reference (``R…``, exact), or by a customer's identity or handle — ``x@pat``, ``@pat``,
``email#ada@example.org``, ``ada@example.org``, ``bluesky@pat.bsky.social``, ``mastodon@pat@mastodon.social``,
``x#1234`` — answered with the customer, their identities and their tickets.

What is indexed: the reference is the tickets table's key (one read); an identity is the customers table's key
(one read) and a customer's tickets are the tickets' ``by_customer`` index (one query, then a read per ticket;
the latest ``views.HISTORY`` are shown). Anything else is read as words customers wrote (``search_words``; the
index is ``store.ports.WordIndex``, docs/adr/0026-word-search.md): "refund Didcot" finds the tickets whose
customers wrote those words, the tickets with both first.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from chalicelib.domain.agent import Agent
from chalicelib.domain.identity import InvalidIdentity, parse_identity
from chalicelib.domain.ticket import Ticket
from chalicelib.domain.words import query_words
from chalicelib.services import Services
from chalicelib.store.ports import WordPage
from chalicelib.usecases.desk import access
from chalicelib.usecases.desk.views import HistoryTicket, customer_history
from chalicelib.usecases.errors import Forbidden

_REFERENCE = re.compile(r"^R[0-9A-Z]{8}$")
_IDENTITY_LIKE = re.compile(r"@|^[a-z]+#", re.IGNORECASE)  # a handle, an address or a stored identity: no words

#: The newest tickets read per word of a query (one query of the index each, never more).
PER_WORD = 100
#: The most tickets a word search shows, best first.
RESULTS = 20
#: The most tickets a word search reads to show ``RESULTS`` the agent may see.
READ_AT_MOST = 40


@dataclass(frozen=True)
class WordMatch:
    """A ticket whose customer wrote words of the query: how many of them (``matched`` of ``of``), and the
    ticket as a history lists it."""

    ticket_id: str
    status: str
    desk: str
    channel: str
    first_contact_at: str
    matched: int
    of: int

    def to_json(self) -> dict[str, object]:
        return {"ticket_id": self.ticket_id, "status": self.status, "desk": self.desk, "channel": self.channel,
                "first_contact_at": self.first_contact_at, "matched": self.matched, "of": self.of}


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
    words: tuple[str, ...] = ()  # matched "words": the words looked up
    matches: tuple[WordMatch, ...] = ()  # the tickets with those words, the most words first, then the newest
    partial: bool = False  # a bound was hit: older tickets with these words may exist (add a word to narrow)

    @property
    def tickets(self) -> tuple[HistoryTicket, ...]:
        return tuple(t for c in self.customers for t in c.tickets)

    def to_json(self) -> dict[str, object]:
        return {"query": self.query, "matched": self.matched, "tried": list(self.tried),
                "customers": [c.to_json() for c in self.customers], "message": self.message,
                "words": list(self.words), "matches": [m.to_json() for m in self.matches], "partial": self.partial}


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
    words = () if _IDENTITY_LIKE.search(q) else tuple(query_words(q))
    unknown = f"No customer is known as {', '.join(tried)}." if tried else ""
    if words:
        matches, partial = search_words(svc, agent, words)
        message = "" if matches else " ".join(filter(None, (unknown, f"No customer wrote {' and '.join(words)}.")))
        if partial:
            message = (f"{message} " if message else "") + (
                "Only the newest tickets with these words were read: add a word to narrow the search.")
        return SearchResult(q, "words", tuple(tried), (), message, words=words, matches=matches, partial=partial)
    if not tried:
        return SearchResult(q, "nothing", (), (), "Search by a reference (R…), an identity (x#…, email#…), a "
                                                  "handle (x@pat, @pat, bluesky@…, mastodon@…) or words "
                                                  "customers wrote.")
    return SearchResult(q, "identity", tuple(tried), (), unknown)


def search_words(svc: Services, agent: Agent, words: tuple[str, ...]) -> tuple[tuple[WordMatch, ...], bool]:
    """The tickets whose customers wrote these words (``domain.words.query_words``), those with the most of them
    first, then the newest; only tickets the agent may see (``access.may_see``), a merged one as the ticket it
    carries on as. Never a scan: one query per word of the newest ``PER_WORD`` tickets; the word with the fewest
    (the rarest) drives: its tickets are scored against every other word, a word whose list was cut short asked by
    key (one batch read); then at most ``READ_AT_MOST`` ticket reads to show ``RESULTS``. ``partial``: a list was
    cut short, or more tickets matched than were shown."""
    pages: dict[str, WordPage] = {w: svc.words.tickets(w, PER_WORD) for w in words}
    driver = min(words, key=lambda w: (not pages[w].complete, len(pages[w].hits)))
    found = {w: {h.ticket_id for h in page.hits} for w, page in pages.items()}
    newest: dict[str, str] = {}
    for page in pages.values():
        for hit in page.hits:
            newest[hit.ticket_id] = max(newest.get(hit.ticket_id, ""), hit.order)
    for word, page in pages.items():
        if word != driver and not page.complete:
            unknown = [h for h in pages[driver].hits if h.ticket_id not in found[word]]
            if unknown:
                found[word] |= svc.words.having(word, unknown)
    score = {t: sum(t in found[w] for w in words) for t in newest}
    ranked = sorted(newest, key=lambda t: (score[t], newest[t], t), reverse=True)
    partial = not all(page.complete for page in pages.values())
    shown: dict[str, WordMatch] = {}
    for read, ticket_id in enumerate(ranked):
        if len(shown) >= RESULTS or read >= READ_AT_MOST:
            partial = True
            break
        ticket = _carried_on(svc, ticket_id)
        if ticket is None or ticket.ticket_id in shown or not _visible(svc, agent, ticket):
            continue
        shown[ticket.ticket_id] = WordMatch(
            ticket_id=ticket.ticket_id, status=ticket.status, desk=ticket.desk, channel=ticket.channel,
            first_contact_at=ticket.first_contact_at.isoformat(), matched=score[ticket_id], of=len(words))
    return tuple(shown.values()), partial


def _carried_on(svc: Services, ticket_id: str) -> Ticket | None:
    """The ticket, or the one it was merged into (following merges)."""
    ticket = svc.tickets.get(ticket_id)
    for _ in range(5):
        if ticket is None or not ticket.merged_into:
            return ticket
        ticket = svc.tickets.get(ticket.merged_into)
    return ticket


def _visible(svc: Services, agent: Agent, ticket: Ticket) -> bool:
    try:
        access.may_see(svc, agent, ticket)
    except Forbidden:
        return False
    return True


def _customer(svc: Services, customer_id: str) -> CustomerFound:
    return CustomerFound(customer_id=customer_id, identities=tuple(sorted(svc.customers.identities(customer_id))),
                         tickets=customer_history(svc, customer_id))
