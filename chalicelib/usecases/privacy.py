"""Data-protection requests: remove everything held about one customer (every linked identity)."""
from __future__ import annotations

from chalicelib.domain.listening import places_named
from chalicelib.services import Services
from chalicelib.telemetry import logger


def forget_customer(svc: Services, identity: str) -> dict[str, int]:
    """``identity`` as stored: ``x#<user id>``, ``email#<address>``, ``facebook#<id>``… Returns what was removed."""
    customer_id = svc.customers.lookup(identity)
    identities = svc.customers.identities(customer_id) if customer_id else []
    if identity not in identities:
        identities.append(identity)
    removed = {"identities": 0, "tickets": 0, "mentions": 0, "words": 0, "sightings": 0}
    tickets = svc.tickets.for_customer(customer_id) if customer_id else []
    mention_keys: set[str] = set()
    for ticket in tickets:
        mention_keys.update(ticket.mention_keys)
        svc.acks.forget(ticket.ack_key)
        svc.labels.forget(ticket.ticket_id)
        removed["words"] += svc.words.forget(ticket.ticket_id)  # the words of their messages (ADR 0026)
        svc.tickets.delete(ticket.ticket_id)
        removed["tickets"] += 1
    if customer_id:
        svc.customers.forget_open_ticket(customer_id)
    for ident in identities:
        mention_keys.update(svc.mentions.keys_for_author(ident))
        svc.customers.delete(ident)
        removed["identities"] += 1
    places = svc.config.listening.places
    for key in mention_keys:
        stored = svc.mentions.get(key) if places else None
        if stored is not None:  # their words and handle, kept two days for bursts of posts naming a place
            for place in places_named(places, stored.mention.text):
                svc.sightings.forget(place, stored.mention.created_at, key)
                removed["sightings"] += 1
        svc.mentions.delete(key)
        removed["mentions"] += 1
    logger.info("customer data removed", extra={"removed": removed})
    return removed
