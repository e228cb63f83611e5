"""pynamodb models. Table names and the endpoint are bound once by ``bind_models`` (see bootstrap)."""
from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model


class MentionsByAuthor(GlobalSecondaryIndex["MentionModel"]):
    """A customer's mentions, for erasure: keys only (the mention's ``pk`` and its author)."""

    class Meta:
        index_name = "by_author"
        projection = KeysOnlyProjection()

    author_key = UnicodeAttribute(hash_key=True)


class MentionModel(Model):
    class Meta:
        table_name = "responder-mentions"
        region = "eu-west-2"

    pk = UnicodeAttribute(hash_key=True)  # channel#external_id
    channel = UnicodeAttribute()
    external_id = UnicodeAttribute()
    conversation_key = UnicodeAttribute()
    author_key = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    received_at = UTCDateTimeAttribute()
    mention = JSONAttribute()  # the normalized Mention (personal data: expires with the TTL)
    owner = UnicodeAttribute(null=True)  # the inbound envelope that stored it (its redeliveries may finish it)
    expires_at = TTLAttribute(null=True)

    by_author = MentionsByAuthor()


class TimelineEvent(MapAttribute[str, Any]):
    def __init__(self, **attributes: Any) -> None:
        super().__init__(**attributes)  # type: ignore[no-untyped-call]  # pynamodb leaves it unannotated

    at = UTCDateTimeAttribute()
    kind = UnicodeAttribute()
    data = JSONAttribute(null=True)  # the entry's fields (``store.codec.event_record``)
    detail = UnicodeAttribute(null=True)  # rows written before the entries were typed: their prose
    reply = JSONAttribute(null=True)  # such a row's ``replied`` entry, later on: the agent's answer


class BacklogIndex(GlobalSecondaryIndex["TicketModel"]):
    class Meta:
        index_name = "backlog"
        projection = AllProjection()

    backlog_key = UnicodeAttribute(hash_key=True)
    backlog_order = UnicodeAttribute(range_key=True)


class OpenWorkIndex(GlobalSecondaryIndex["TicketModel"]):
    class Meta:
        index_name = "open_work"
        projection = AllProjection()

    open_status = UnicodeAttribute(hash_key=True)
    first_contact_at = UnicodeAttribute(range_key=True)


class TicketsByCustomer(GlobalSecondaryIndex["TicketModel"]):
    class Meta:
        index_name = "by_customer"
        projection = KeysOnlyProjection()

    customer_id = UnicodeAttribute(hash_key=True)
    first_contact_at = UnicodeAttribute(range_key=True)


class TicketModel(Model):
    class Meta:
        table_name = "responder-tickets"
        region = "eu-west-2"

    ticket_id = UnicodeAttribute(hash_key=True)
    version = NumberAttribute(default=0)
    status = UnicodeAttribute()
    desk = UnicodeAttribute()
    priority = UnicodeAttribute()
    intent = UnicodeAttribute()
    language = UnicodeAttribute(default="und")
    channel = UnicodeAttribute()
    conversation_key = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    first_contact_at = UnicodeAttribute()  # ISO; also the GSI range key
    last_customer_at = UTCDateTimeAttribute()
    mention_keys = ListAttribute(of=UnicodeAttribute, default=list)
    reply_target = JSONAttribute(null=True)  # how to answer: channel, recipient, in_reply_to, private, extra
    flags = ListAttribute(of=UnicodeAttribute, default=list)  # abuse, high_reach, personal_data, ...
    references = JSONAttribute(null=True)
    reasons = ListAttribute(of=UnicodeAttribute, default=list)
    decision = JSONAttribute(null=True)  # triage's decision (intent, answered, why, tone, confidence); None: old row
    relabel = JSONAttribute(null=True)  # the latest agent's label's decision
    acked = BooleanAttribute(default=False)
    tone = UnicodeAttribute(null=True)  # the acknowledgement's tone (apology, question, thanks, neutral)
    claimed_by = UnicodeAttribute(null=True)
    claim_expires_at = UTCDateTimeAttribute(null=True)
    first_response_due = UTCDateTimeAttribute(null=True)
    first_response_at = UTCDateTimeAttribute(null=True)
    breached = BooleanAttribute(default=False)
    incident_id = UnicodeAttribute(null=True)
    timeline = ListAttribute(of=TimelineEvent, default=list)
    resolved_at = UTCDateTimeAttribute(null=True)
    conversations = ListAttribute(of=UnicodeAttribute, default=list)
    reopened = NumberAttribute(default=0)
    merged_into = UnicodeAttribute(null=True)
    suggested_links = ListAttribute(of=UnicodeAttribute, default=list)
    sent_keys = ListAttribute(of=UnicodeAttribute, default=list)  # outbox keys sent (see OutboxLedger)
    ack_lease = UTCDateTimeAttribute(null=True)  # the acknowledgement's sending lease while sent inline
    backlog_key = UnicodeAttribute(null=True)  # "<desk>#<status>" while open (waiting/claimed/replied), removed after
    backlog_order = UnicodeAttribute(null=True)
    open_status = UnicodeAttribute(null=True)  # the status while open (sparse index open_work), removed after
    expires_at = TTLAttribute(null=True)

    backlog = BacklogIndex()
    open_work = OpenWorkIndex()
    by_customer = TicketsByCustomer()


class IdentitiesByCustomer(GlobalSecondaryIndex["CustomerIdentityModel"]):
    class Meta:
        index_name = "by_customer"
        projection = AllProjection()

    customer_id = UnicodeAttribute(hash_key=True)


class CustomerIdentityModel(Model):
    """One row per identity (``x#<user id>``, ``x@<handle>``, ``email#<address>``) pointing at one customer."""

    class Meta:
        table_name = "responder-customers"
        region = "eu-west-2"

    pk = UnicodeAttribute(hash_key=True)
    customer_id = UnicodeAttribute()
    channel = UnicodeAttribute()
    handle = UnicodeAttribute(null=True)
    display_name = UnicodeAttribute(null=True)
    first_seen_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute(null=True)

    by_customer = IdentitiesByCustomer()


class StateModel(Model):
    """Small keyed state of the purpose-named stores in ``store.repositories`` (its docstring lists the keys)."""

    class Meta:
        table_name = "responder-state"
        region = "eu-west-2"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    value = JSONAttribute(null=True)
    ref = UnicodeAttribute(null=True)
    count = NumberAttribute(null=True)  # type: ignore[assignment]  # shadows Model.count(); atomic counters (form rate limit, answers, spend in micro-dollars)
    lease = UnicodeAttribute(null=True)  # outbox: the sending lease's expiry (fixed-width UTC), until sent
    tat = NumberAttribute(null=True)  # outbound rate: the theoretical arrival time (epoch seconds) of the next send
    expires_at = TTLAttribute(null=True)


ALL_MODELS: tuple[type[Model], ...] = (MentionModel, TicketModel, CustomerIdentityModel, StateModel)


def bind_models(*, region: str, endpoint_url: str | None, tables: dict[type[Model], str]) -> None:
    """Point every model at its table and endpoint, dropping any cached connection (pynamodb caches one per class)."""
    for model in ALL_MODELS:
        model.Meta.table_name = tables.get(model, model.Meta.table_name)
        model.Meta.region = region
        model.Meta.host = endpoint_url
        model._connection = None
