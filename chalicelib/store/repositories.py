"""DynamoDB repositories (pynamodb). Thin: translate between domain objects and items, nothing else."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator

from pynamodb.exceptions import DeleteError, PutError

from chalicelib.domain.mention import Mention
from chalicelib.domain.ticket import Event, Ticket, WAITING
from chalicelib.store.models import (
    CustomerIdentityModel,
    MentionModel,
    StateModel,
    TicketModel,
    TimelineEvent,
)


def _conditional_failed(exc: Exception) -> bool:
    cause = getattr(exc, "cause_response_code", None)
    return cause == "ConditionalCheckFailedException"


def _save_if(item, condition) -> bool:
    """Save ``item`` if ``condition`` holds; False (not an error) when it does not."""
    try:
        item.save(condition=condition)
        return True
    except PutError as exc:
        if _conditional_failed(exc):
            return False
        raise


class AlreadyExists(Exception):
    pass


class ConcurrentUpdate(Exception):
    """Somebody else saved the item first: reload and try again."""


class MentionRepository:
    def __init__(self, retention: timedelta):
        self._retention = retention

    def add_if_new(self, mention: Mention, received_at: datetime) -> bool:
        """Store the mention unless its key exists; True if this call stored it."""
        item = MentionModel(
            mention.key,
            channel=mention.channel,
            external_id=mention.external_id,
            conversation_key=mention.conversation_key,
            author_key=mention.identity_key,
            created_at=mention.created_at,
            received_at=received_at,
            mention=mention.to_dict(),
            expires_at=self._retention,
        )
        return _save_if(item, MentionModel.pk.does_not_exist())

    def get(self, key: str) -> MentionModel | None:
        try:
            return MentionModel.get(key)
        except MentionModel.DoesNotExist:
            return None

    def mark_processed(self, key: str, ticket_id: str) -> None:
        MentionModel(key).update(actions=[MentionModel.ticket_id.set(ticket_id)])

    def for_author(self, author_key: str) -> list[MentionModel]:
        return [m for m in MentionModel.scan(MentionModel.author_key == author_key)]

    def delete(self, key: str) -> None:
        MentionModel(key).delete()


def _to_model(ticket: Ticket, retention: timedelta | None) -> TicketModel:
    waiting = ticket.status == WAITING
    return TicketModel(
        ticket.ticket_id,
        version=ticket.version,
        status=ticket.status,
        desk=ticket.desk,
        priority=ticket.priority,
        intent=ticket.intent,
        language=ticket.language,
        channel=ticket.channel,
        conversation_key=ticket.conversation_key,
        customer_id=ticket.customer_id,
        first_contact_at=ticket.first_contact_at.astimezone(timezone.utc).isoformat(),
        last_customer_at=ticket.last_customer_at,
        mention_keys=list(ticket.mention_keys),
        reply_target=ticket.reply_target or None,
        flags=list(ticket.flags),
        references=ticket.references or None,
        reasons=list(ticket.reasons),
        acked=ticket.acked,
        claimed_by=ticket.claimed_by,
        claim_expires_at=ticket.claim_expires_at,
        first_response_due=ticket.first_response_due,
        first_response_at=ticket.first_response_at,
        breached=ticket.breached,
        incident_id=ticket.incident_id,
        timeline=[TimelineEvent(at=e.at, kind=e.kind, detail=e.detail or None) for e in ticket.timeline],
        resolved_at=ticket.resolved_at,
        backlog_key=f"{ticket.desk}#{WAITING}" if waiting else None,
        backlog_order=ticket.backlog_order if waiting else None,
        expires_at=retention,
    )


def _from_model(item: TicketModel) -> Ticket:
    return Ticket(
        ticket_id=item.ticket_id,
        desk=item.desk,
        priority=item.priority,
        intent=item.intent,
        channel=item.channel,
        conversation_key=item.conversation_key,
        customer_id=item.customer_id,
        first_contact_at=datetime.fromisoformat(item.first_contact_at),
        last_customer_at=item.last_customer_at,
        status=item.status,
        language=item.language,
        mention_keys=list(item.mention_keys or []),
        reply_target=dict(item.reply_target or {}),
        flags=list(item.flags or []),
        references=dict(item.references or {}),
        reasons=list(item.reasons or []),
        acked=bool(item.acked),
        claimed_by=item.claimed_by,
        claim_expires_at=item.claim_expires_at,
        first_response_due=item.first_response_due,
        first_response_at=item.first_response_at,
        breached=bool(item.breached),
        incident_id=item.incident_id,
        timeline=[Event(e.at, e.kind, e.detail or "") for e in (item.timeline or [])],
        resolved_at=item.resolved_at,
        version=int(item.version or 0),
    )


class TicketRepository:
    def __init__(self, retention: timedelta):
        self._retention = retention

    def get(self, ticket_id: str) -> Ticket | None:
        try:
            return _from_model(TicketModel.get(ticket_id))
        except TicketModel.DoesNotExist:
            return None

    def add(self, ticket: Ticket) -> None:
        ticket.version = 1
        try:
            _to_model(ticket, self._retention).save(condition=TicketModel.ticket_id.does_not_exist())
        except PutError as exc:
            if _conditional_failed(exc):
                raise AlreadyExists(ticket.ticket_id) from exc
            raise

    def save(self, ticket: Ticket) -> None:
        """Optimistic concurrency: the save fails if anybody saved since this ticket was read."""
        expected = ticket.version
        ticket.version = expected + 1
        try:
            _to_model(ticket, self._retention).save(condition=TicketModel.version == expected)
        except PutError as exc:
            ticket.version = expected
            if _conditional_failed(exc):
                raise ConcurrentUpdate(ticket.ticket_id) from exc
            raise

    def update(self, ticket_id: str, change: Callable[[Ticket], None], *, current: Ticket | None = None,
               attempts: int = 5) -> Ticket | None:
        """Apply ``change`` and save; when somebody saved first, re-read and apply it again. ``current`` saves the
        first read. None if the ticket does not exist; ConcurrentUpdate after ``attempts`` lost races."""
        ticket = current
        for _ in range(attempts):
            if ticket is None:
                ticket = self.get(ticket_id)
                if ticket is None:
                    return None
            change(ticket)
            try:
                self.save(ticket)
                return ticket
            except ConcurrentUpdate:
                ticket = None
        raise ConcurrentUpdate(ticket_id)

    def backlog(self, desk: str, limit: int = 100) -> list[Ticket]:
        """Waiting tickets of a desk: urgent first, then oldest first contact."""
        items = TicketModel.backlog.query(f"{desk}#{WAITING}", limit=limit)
        return [_from_model(i) for i in items]

    def backlog_count(self, desk: str) -> int:
        return TicketModel.backlog.count(f"{desk}#{WAITING}")

    def open_tickets(self) -> Iterator[Ticket]:
        for item in TicketModel.scan(TicketModel.status != "resolved"):
            yield _from_model(item)

    def claimed(self) -> Iterator[Ticket]:
        for item in TicketModel.scan(TicketModel.status == "claimed"):
            yield _from_model(item)

    def for_customer(self, customer_id: str) -> list[Ticket]:
        ids = [i.ticket_id for i in TicketModel.by_customer.query(customer_id)]
        return [t for t in (self.get(i) for i in ids) if t is not None]

    def delete(self, ticket_id: str) -> None:
        TicketModel(ticket_id).delete()


class CustomerRepository:
    def __init__(self, retention: timedelta):
        self._retention = retention

    def resolve(self, identity: str, new_customer_id: str, *, channel: str, handle: str = "",
                display_name: str = "", at: datetime) -> str:
        """The customer id this identity belongs to; registers it under ``new_customer_id`` if unseen."""
        item = CustomerIdentityModel(identity, customer_id=new_customer_id, channel=channel,
                                     handle=handle or None, display_name=display_name or None,
                                     first_seen_at=at, expires_at=self._retention)
        if _save_if(item, CustomerIdentityModel.pk.does_not_exist()):
            return new_customer_id
        return CustomerIdentityModel.get(identity).customer_id

    def lookup(self, identity: str) -> str | None:
        try:
            return CustomerIdentityModel.get(identity).customer_id
        except CustomerIdentityModel.DoesNotExist:
            return None

    def identities(self, customer_id: str) -> list[str]:
        return [i.pk for i in CustomerIdentityModel.by_customer.query(customer_id)]

    def delete(self, identity: str) -> None:
        CustomerIdentityModel(identity).delete()


class StateRepository:
    """Keyed state with conditional writes: the primitive behind 'exactly once'."""

    def claim(self, pk: str, sk: str, *, value: Any = None, ref: str | None = None,
              ttl: timedelta | None = None) -> bool:
        """Create the item unless it exists; True if this call created it."""
        return _save_if(StateModel(pk, sk, value=value, ref=ref, expires_at=ttl), StateModel.pk.does_not_exist())

    def get(self, pk: str, sk: str) -> StateModel | None:
        try:
            return StateModel.get(pk, sk)
        except StateModel.DoesNotExist:
            return None

    def put(self, pk: str, sk: str, *, value: Any = None, ref: str | None = None,
            ttl: timedelta | None = None) -> None:
        StateModel(pk, sk, value=value, ref=ref, expires_at=ttl).save()

    def put_if_value(self, pk: str, sk: str, expected: Any, value: Any, *, ttl: timedelta | None = None) -> bool:
        """Compare-and-set on ``value`` (None expected = item absent)."""
        condition = StateModel.pk.does_not_exist() if expected is None else StateModel.value == expected
        return _save_if(StateModel(pk, sk, value=value, expires_at=ttl), condition)

    def query(self, pk: str, *, newest_first: bool = False, limit: int | None = None) -> list[StateModel]:
        return list(StateModel.query(pk, scan_index_forward=not newest_first, limit=limit))

    def delete(self, pk: str, sk: str) -> None:
        try:
            StateModel(pk, sk).delete()
        except DeleteError:
            pass


