"""Customers across channels: one customer links identities (X id and handle, e-mail address, Meta ids, the form),
and has at most one open ticket, which every message from any linked identity joins.

Links come from the customer (the form's handle and e-mail address, an address or handle written to us in
private) or from an agent (``link`` / ``unlink``, admin API and CLI). Linking two customers who both have an open
ticket merges the later ticket into the earlier one: it keeps the earlier first contact (and so its queue
position), the other's timeline is folded in, and the other's status link keeps working and shows the merged
ticket. Nothing is ever deleted by a link or a merge.
"""
from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.domain.identity import (
    InvalidIdentity,
    bluesky_handle_identity,
    handle_identity,
    identities_of,
    mastodon_handle_identity,
    parse_identity,
    threads_handle_identity,
)
from chalicelib.domain.jsonvalue import is_object
from chalicelib.domain.keys import channel_of
from chalicelib.domain.mention import Mention
from chalicelib.domain.routing import queue_message
from chalicelib.domain.ticket import Ticket, first_reference
from chalicelib.services import Services
from chalicelib.store.ports import ConcurrentUpdate
from chalicelib.telemetry import count, logger
from chalicelib.usecases import reports
from chalicelib.usecases.errors import Invalid, NotFound


def new_customer_id() -> str:
    return "C" + uuid.uuid4().hex[:12]


def brand_identities(svc: Services) -> frozenset[str]:
    handle = svc.config.brand.x_handle or ""
    own = {handle_identity(handle)} if handle else set()
    if svc.settings.x_account_id:
        own.add(f"x#{svc.settings.x_account_id}")
    if svc.settings.bluesky_handle:
        own.add(bluesky_handle_identity(svc.settings.bluesky_handle))
    if svc.settings.mastodon_account:
        own.add(mastodon_handle_identity(svc.settings.mastodon_account))
    if svc.settings.threads_username:
        own.add(threads_handle_identity(svc.settings.threads_username))
    return frozenset(own)


def customer_of(svc: Services, mention: Mention, now: datetime) -> str:
    """The customer who wrote ``mention``: found by any of its identities, registered under a new customer if none
    is known. An alias the customer gave us (form handle, an address in a DM) that belongs to another customer links
    the two: the other is merged into this one."""
    identities = identities_of(mention, brand=brand_identities(svc))
    customer_id = svc.customers.resolve(identities[0], new_customer_id(), channel=mention.channel,
                                        handle=mention.author_handle, display_name=mention.author_name, at=now)
    for alias in identities[1:]:
        owner = svc.customers.resolve(alias, customer_id, channel=channel_of(alias), at=now)
        if owner != customer_id:
            merge_customers(svc, customer_id, owner, now, reason=f"{mention.key} gave {alias}")
    return customer_id


@dataclass(frozen=True)
class MergeResult:
    kept: str | None  # the ticket that carries on, if either customer had an open ticket
    merged: str | None  # the ticket folded into it, if both had one


def live_open_ticket(svc: Services, customer_id: str) -> Ticket | None:
    """The customer's open ticket: the one their pointer names or, with no pointer, their first ticket."""
    pointed = svc.customers.open_ticket(customer_id) or first_reference(customer_id)
    ticket = svc.tickets.get(pointed)
    return ticket if ticket is not None and ticket.open and ticket.customer_id == customer_id else None


def merge_customers(svc: Services, keep: str, other: str, now: datetime, *, reason: str) -> MergeResult:
    """Fold customer ``other`` into ``keep``: its identities and tickets move over; two open tickets merge into the
    one with the earlier first contact."""
    if keep == other:
        return MergeResult(None, None)
    for identity in svc.customers.identities(other):
        svc.customers.relink(identity, keep)
    mine, theirs = live_open_ticket(svc, keep), live_open_ticket(svc, other)
    for ticket in svc.tickets.for_customer(other):
        svc.tickets.update(ticket.ticket_id, lambda t: setattr(t, "customer_id", keep))
    svc.customers.forget_open_ticket(other)
    count("CustomersLinked")
    if mine is None or theirs is None:
        survivor = mine or theirs
        if survivor is not None:
            _point(svc, keep, survivor.ticket_id)
        return MergeResult(survivor.ticket_id if survivor else None, None)
    first, second = sorted((mine, theirs), key=lambda t: (t.first_contact_at, t.ticket_id))
    merged = merge_tickets(svc, first.ticket_id, second.ticket_id, now)
    _point(svc, keep, merged.ticket_id)
    logger.info("customers linked, tickets merged", extra={"kept": first.ticket_id, "merged": second.ticket_id,
                                                             "reason": reason})
    return MergeResult(first.ticket_id, second.ticket_id)


def merge_tickets(svc: Services, keep_id: str, other_id: str, now: datetime) -> Ticket:
    """``other`` folded into ``keep``; the desk hears of it (``ticket.updated``, change ``merged``). The one that
    stops is saved first, so the same messages are never on two open tickets."""
    for _ in range(5):
        keep, other = svc.tickets.get(keep_id), svc.tickets.get(other_id)
        if keep is None or other is None:
            raise NotFound(f"ticket {keep_id if keep is None else other_id}")
        if other.merged_into == keep_id:
            return keep
        before = copy.deepcopy(other)
        other.merge_into(keep_id, now)
        try:
            svc.tickets.save(other)
        except ConcurrentUpdate:
            continue
        def fold(ticket: Ticket, folded: Ticket = before) -> None:
            ticket.absorb(copy.deepcopy(folded), now)

        updated = svc.tickets.update(keep_id, fold, current=keep)
        assert updated is not None
        merged = updated.ticket
        svc.queues.send_desk(merged.desk, queue_message(merged, event="ticket.updated", change="merged", at=now,
                                                        status_url=svc.links.url(merged.ticket_id)))
        # the leads' reports: the folded ticket's row says merged (counted once, in the ticket carrying on)
        reports.record_ticket(svc, other)
        reports.record_ticket(svc, merged)
        count("TicketsMerged")
        return merged
    raise ConcurrentUpdate(other_id)


def _point(svc: Services, customer_id: str, ticket_id: str) -> None:
    for _ in range(5):
        current = svc.customers.open_ticket(customer_id)
        if current == ticket_id or svc.customers.point_open_ticket(customer_id, ticket_id, expected=current):
            return


# ------------------------------------------------------------------------------------------------ agents' links
def identity_field(text: object, field: str) -> str:
    """The identity a request's ``field`` names, in its stored form; ``Invalid`` with the right shape if it is none."""
    if not isinstance(text, str):
        raise Invalid(f"{field} must be an identity such as x@handle, x#1234 or email#ada@example.org")
    try:
        return parse_identity(text)
    except InvalidIdentity as exc:
        raise Invalid(f"{field}: {exc}") from None


def link_request(data: object) -> tuple[str, str]:
    """``{"identity": ..., "with": ...}``, read: the two identities (``Invalid`` for anything else)."""
    if not is_object(data):
        raise Invalid("the body must be a JSON object: {\"identity\": ..., \"with\": ...}")
    return identity_field(data.get("identity"), "identity"), identity_field(data.get("with"), "with")


@dataclass(frozen=True)
class Linked:
    """What linking two identities did: nothing (``message`` says why), or the customer that carries on, the ticket
    kept and the one merged into it, and the customer's identities now."""

    changed: bool
    customer_id: str
    message: str = ""
    ticket_id: str | None = None
    merged_ticket_id: str | None = None
    identities: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        if not self.changed:
            return {"changed": False, "customer_id": self.customer_id, "message": self.message}
        return {"changed": True, "customer_id": self.customer_id, "ticket_id": self.ticket_id,
                "merged_ticket_id": self.merged_ticket_id, "identities": list(self.identities)}


def link(svc: Services, identity: str, other: str, *, by: str = "admin") -> Linked:
    """The two identities (stored forms) are one customer. Both must be known identities."""
    first, second = svc.customers.lookup(identity), svc.customers.lookup(other)
    for name, found in ((identity, first), (other, second)):
        if found is None:
            raise NotFound(f"no customer has identity {name}")
    assert first is not None and second is not None
    if first == second:
        return Linked(False, first, message=f"{identity} and {other} already belong to the same customer")
    result = merge_customers(svc, second, first, svc.now(), reason=f"linked by {by}")
    return Linked(True, second, ticket_id=result.kept, merged_ticket_id=result.merged,
                  identities=tuple(sorted(svc.customers.identities(second))))


def unlink(svc: Services, identity_text: str) -> dict[str, Any]:
    """The identity becomes a customer of its own (its tickets stay where they are)."""
    identity = identity_field(identity_text, "identity")
    customer_id = svc.customers.lookup(identity)
    if customer_id is None:
        raise NotFound(f"no customer has identity {identity}")
    if svc.customers.identities(customer_id) == [identity]:
        return {"changed": False, "customer_id": customer_id, "message": f"{identity} is linked to nobody else"}
    fresh = new_customer_id()
    svc.customers.relink(identity, fresh)
    return {"changed": True, "customer_id": fresh, "identities": [identity]}
