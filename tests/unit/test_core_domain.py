"""Pure domain pieces: the ticket state machine, acknowledgement text, status links, routing, settings, clock."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.clock import Clock, FixedClock, parse_instant
from chalicelib.domain import templates
from chalicelib.domain.ack import compose, render, x_length
from chalicelib.domain.incident import Incident
from chalicelib.domain.mention import (
    DYNAMODB_PARTITION_KEY_BYTES,
    KEY_FIELDS,
    MAX_KEY_FIELD_BYTES,
    Mention,
    Unstorable,
)
from chalicelib.domain.routing import ACK_MAX_AGE, route
from chalicelib.domain.status_link import make_token, read_token, status_url
from chalicelib.domain.ticket import RESOLVED, WAITING, Ticket, TicketStateError, new_reference
from chalicelib.domain.wording import opening, wait
from chalicelib.settings import Secrets, Settings, SettingsError
from chalicelib.sqs_batch import BatchPartiallyFailed, Record, RetryLater, run_batch
from chalicelib.store.memory import MemoryQueues

T0 = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)
X_TEMPLATE = ("Thanks{% if name %} {{ name }}{% endif %}. {% if back_at %}We're offline now, back {{ back_at }}"
              "{% if back_in %} (in {{ back_in }}){% endif %}.{% endif %}{% if incident_title %} {{ incident_title }}:"
              " {{ incident_url }}{% endif %}{% if dm_invite %} {{ dm_invite }}{% endif %}"
              " Ref {{ reference }}: {{ status_url }}")


def ticket(**overrides) -> Ticket:
    values = dict(ticket_id="R00000001", desk="complaints", priority="normal", intent="complaint", channel="x",
                  conversation_key="x#1", customer_id="C1", first_contact_at=T0, last_customer_at=T0)
    values.update(overrides)
    return Ticket(**values)


# ------------------------------------------------------------------------------------------------ ticket
def test_reference_is_short_unambiguous_and_random():
    refs = {new_reference() for _ in range(2000)}
    assert len(refs) == 2000
    assert all(len(r) == 9 and r[0] == "R" and not set(r[1:]) & set("ILOU") for r in refs)


def test_claim_reply_resolve_and_reopen():
    t = ticket()
    t.claim("ana", T0 + timedelta(hours=2), T0)
    with pytest.raises(TicketStateError, match="claimed by ana"):
        t.claim("bob", T0 + timedelta(hours=2), T0 + timedelta(minutes=1))
    t.replied("ana", T0 + timedelta(minutes=5))
    assert t.first_response_at == T0 + timedelta(minutes=5)
    t.resolve("ana", T0 + timedelta(minutes=6))
    assert t.status == RESOLVED
    t.customer_wrote("x#2", T0 + timedelta(days=1))
    assert t.status == WAITING and t.first_contact_at == T0 and t.mention_keys == ["x#2"]
    assert [e.kind for e in t.timeline] == ["claimed", "replied", "resolved", "reopened", "received"]


def test_an_expired_claim_can_be_taken_over_and_a_resolved_ticket_cannot_be_claimed():
    t = ticket()
    t.claim("ana", T0 + timedelta(minutes=30), T0)
    t.claim("bob", T0 + timedelta(hours=2), T0 + timedelta(hours=1))
    assert t.claimed_by == "bob"
    t.resolve("bob", T0 + timedelta(hours=1))
    with pytest.raises(TicketStateError):
        t.replied("bob", T0 + timedelta(hours=2))


def test_backlog_order_puts_urgent_first_then_oldest():
    older = ticket(first_contact_at=T0 - timedelta(hours=1))
    newer_urgent = ticket(priority="urgent")
    orders = [older.backlog_order, newer_urgent.backlog_order]
    assert sorted(orders) == [newer_urgent.backlog_order, older.backlog_order]


def test_same_message_twice_is_threaded_once():
    t = ticket(mention_keys=["x#1"])
    t.customer_wrote("x#1", T0)
    assert t.mention_keys == ["x#1"] and t.timeline == []


# ------------------------------------------------------------------------------------------------ mention
@pytest.mark.parametrize("field", sorted(KEY_FIELDS))
def test_a_key_field_is_bounded_in_bytes_at_the_limit_the_store_can_hold(field):
    """Every key is built from these fields behind a short prefix, so each stays within DynamoDB's 2,048 bytes."""
    def mention(value: str) -> Mention:
        fields = {"channel": "x", "external_id": "1", "conversation_id": "1", "author_id": "5", "text": "hi",
                  "created_at": T0}
        return Mention(**{**fields, field: value})

    assert MAX_KEY_FIELD_BYTES * 2 <= DYNAMODB_PARTITION_KEY_BYTES
    assert getattr(mention("9" * MAX_KEY_FIELD_BYTES), field) == "9" * MAX_KEY_FIELD_BYTES
    with pytest.raises(Unstorable, match=f"\\({field}\\) is {MAX_KEY_FIELD_BYTES + 1} bytes long"):
        mention("9" * (MAX_KEY_FIELD_BYTES + 1))
    with pytest.raises(Unstorable, match="1026 bytes"):  # bytes of UTF-8, not characters
        mention("é" * 513)


def test_an_alias_too_long_to_be_a_key_is_never_an_identity():
    from chalicelib.domain.identity import identities_of

    long_address = "a" * 2100 + "@example.org"
    private = Mention(channel="messenger", external_id="m1", conversation_id="c1", author_id="psid-1",
                      text=f"write to {long_address} or ada@example.org", created_at=T0, visibility="private")
    assert identities_of(private) == ["messenger#psid-1", "email#ada@example.org"]


# ------------------------------------------------------------------------------------------------ ack text
def test_eta_wording_in_the_brand_zone_across_days_and_dst():
    assert opening(T0 + timedelta(hours=6), T0, "Europe/London", style="phrase") == "at 09:00 today GMT"
    assert opening(T0 + timedelta(hours=28), T0, "Europe/London", style="phrase") == "at 07:00 tomorrow GMT"
    friday_night = datetime(2026, 3, 27, 21, 0, tzinfo=timezone.utc)
    monday = datetime(2026, 3, 30, 6, 0, tzinfo=timezone.utc)  # after the spring change: 07:00 BST
    assert opening(monday, friday_night, "Europe/London", style="phrase") == "on Monday at 07:00 BST"
    assert wait(timedelta(minutes=45)) == "about 45 minutes"
    assert wait(timedelta(hours=6)) == "about 6 hours"
    assert wait(timedelta(days=3)) == "about 3 days"


def test_x_ack_carries_eta_reference_and_link_and_counts_urls_as_23():
    url = "https://help.example.test/s/R00000001-abcdefghijklmnop"
    text = compose(X_TEMPLATE, channel="x", name="Pat", reference="R00000001", status_url=url, now=T0,
                   back_at=T0 + timedelta(hours=6), tz="Europe/London", desk="complaints")
    assert text == ("Thanks Pat. We're offline now, back at 09:00 today GMT (in about 6 hours). Ref R00000001: " + url)
    assert x_length(text) == len(text) - len(url) + 23


@given(name=st.text(min_size=0, max_size=60), title=st.text(min_size=0, max_size=200))
def test_x_ack_always_fits_and_keeps_the_link(name, title):
    url = "https://help.example.test/s/R00000001-abcdefghijklmnop"
    incident = Incident("INC-1", title or "Disruption", "", "https://status.example.test/" + "a" * 80)
    text = compose(X_TEMPLATE, channel="x", name=name, reference="R00000001", status_url=url, now=T0,
                   back_at=T0 + timedelta(hours=6), tz="Europe/London", desk="complaints", incident=incident,
                   dm_invite="Please send details by DM, never in public.")
    assert x_length(text) <= 280
    assert url in text


def test_acks_for_different_tickets_are_never_identical():
    texts = {compose(X_TEMPLATE, channel="x", name="Pat", reference=ref, status_url=f"https://h.test/s/{ref}-x",
                     now=T0, back_at=T0 + timedelta(hours=6), tz="Europe/London", desk="complaints")
             for ref in (new_reference() for _ in range(50))}
    assert len(texts) == 50


def test_a_template_is_compiled_once_however_many_acks_use_it():
    templates._compiled.cache_clear()
    for ref in ("R00000001", "R00000002", "R00000003"):
        compose(X_TEMPLATE, channel="x", name="Pat", reference=ref, status_url=f"https://h.test/s/{ref}-x", now=T0,
                back_at=T0 + timedelta(hours=6), tz="Europe/London", desk="complaints")
    assert templates._compiled.cache_info().misses == 1


def test_block_tags_on_their_own_lines_leave_no_blank_lines():
    source = "Hi {{ name }}.\n{% if back_at %}\nBack {{ back_at }}.\n{% endif %}\nRef {{ reference }}"
    assert render(source, name="Pat", back_at="at 07:00", reference="R1") == "Hi Pat.\nBack at 07:00.\nRef R1"
    assert render(source, name="Pat", reference="R1") == "Hi Pat.\nRef R1"


# ------------------------------------------------------------------------------------------------ status links
def test_status_tokens_verify_and_reject_tampering():
    token = make_token("k" * 32, "R00000001")
    assert read_token("k" * 32, token) == "R00000001"
    assert read_token("other-key", token) is None
    assert read_token("k" * 32, token.replace("R00000001", "R00000002")) is None
    assert read_token("k" * 32, token[:-1] + ("a" if token[-1] != "a" else "b")) is None
    for junk in ("", "R00000001", "../../etc/passwd", token + "x"):
        assert read_token("k" * 32, junk) is None
    assert len(token.split("-")[1]) * 5 >= 64  # at least 64 bits of HMAC
    assert status_url("https://h.test", "k" * 32, "R00000001") == f"https://h.test/s/{token}"


# ------------------------------------------------------------------------------------------------ routing
@dataclass
class FakeTriage:
    desk: str = "complaints"
    priority: str = "normal"
    acknowledge: bool = True


class FakeCalendar:
    def __init__(self, open_desks):
        self.open_desks = set(open_desks)

    def is_open(self, desk, t):
        return desk in self.open_desks

    def next_opening(self, desk, t):
        return t + timedelta(hours=6)


class FakeConfig:
    class routing:
        oncall_desk = "oncall"


def test_closed_desk_acks_with_next_opening_open_desk_does_not():
    closed = route(FakeTriage(), calendar=FakeCalendar({"oncall"}), config=FakeConfig, now=T0, written_at=T0)
    assert closed.acknowledge and closed.next_opening == T0 + timedelta(hours=6) and closed.desk == "complaints"
    opened = route(FakeTriage(), calendar=FakeCalendar({"complaints"}), config=FakeConfig, now=T0)
    assert not opened.acknowledge and opened.next_opening is None


def test_urgent_on_a_closed_desk_goes_to_the_open_on_call_desk():
    decision = route(FakeTriage(priority="urgent"), calendar=FakeCalendar({"oncall"}), config=FakeConfig, now=T0)
    assert decision.desk == "oncall" and decision.escalated and not decision.acknowledge
    nobody = route(FakeTriage(priority="urgent"), calendar=FakeCalendar(set()), config=FakeConfig, now=T0)
    assert nobody.desk == "complaints" and not nobody.escalated and nobody.acknowledge


def test_no_ack_for_praise_or_for_old_messages():
    assert not route(FakeTriage(acknowledge=False), calendar=FakeCalendar(set()), config=FakeConfig, now=T0).acknowledge
    old = route(FakeTriage(), calendar=FakeCalendar(set()), config=FakeConfig, now=T0,
                written_at=T0 - ACK_MAX_AGE - timedelta(seconds=1))
    assert not old.acknowledge


# ------------------------------------------------------------------------------------------------ sqs batch
def records(*bodies):
    return [Record(message_id=str(i), receipt_handle=f"h{i}", body=b, receive_count=1) for i, b in enumerate(bodies)]


def test_all_good_batch_deletes_nothing_itself():
    queues = MemoryQueues()
    assert run_batch(records("a", "b"), lambda r: None, queue_name="q", queues=queues) == \
        {"queue": "q", "succeeded": 2, "failed": 0}
    assert queues.deleted == []  # Lambda deletes a batch that returns


def test_mixed_batch_deletes_the_good_delays_the_waiting_and_raises_for_the_bad():
    queues = MemoryQueues()

    def handle(record):
        if record.body == "bad":
            raise ValueError("broken")
        if record.body == "later":
            raise RetryLater(30)

    with pytest.raises(BatchPartiallyFailed, match="2 of 3"):
        run_batch(records("ok", "bad", "later"), handle, queue_name="q", queues=queues)
    assert queues.deleted == ["h0"] and queues.delayed == {"h2": 30}


def test_a_refused_delay_fails_only_its_record():
    queues = MemoryQueues()

    def refuse(queue_name, receipt_handle, seconds):
        raise RuntimeError("InvalidParameterValue: VisibilityTimeout")

    queues.delay_redelivery = refuse  # type: ignore[method-assign]

    def handle(record):
        if record.body == "later":
            raise RetryLater(43_200)

    with pytest.raises(BatchPartiallyFailed, match="1 of 2"):
        run_batch(records("ok", "later"), handle, queue_name="q", queues=queues)
    assert queues.deleted == ["h0"]  # the record that succeeded is not delivered again


# ------------------------------------------------------------------------------------------------ settings, clock
def test_settings_need_a_stage_and_explain_bad_values():
    with pytest.raises(SettingsError, match="STAGE"):
        Settings.from_env({})
    with pytest.raises(SettingsError, match="retention_days"):
        Settings.from_env({"STAGE": "dev", "RETENTION_DAYS": "0"})
    settings = Settings.from_env({"STAGE": "prod", "META_PAGE_IDS": "1, 2", "PUBLIC_BASE_URL": "https://h.test/"})
    assert settings.meta_page_ids == ["1", "2"] and settings.public_base_url == "https://h.test"


def test_secrets_come_from_env_locally_and_from_ssm_elsewhere():
    local = Settings.from_env({"STAGE": "local"})
    assert Secrets(local, env={"ADMIN_TOKEN": "t"}).get("ADMIN_TOKEN") == "t"
    with pytest.raises(SettingsError, match="ADMIN_TOKEN"):
        Secrets(local, env={}).get("ADMIN_TOKEN")
    asked = []
    prod = Settings.from_env({"STAGE": "prod", "PARAMETER_PREFIX": "/responder/prod/"})
    secrets = Secrets(prod, env={"X_CONSUMER_SECRET": "left-in-env"}, fetch=lambda name: asked.append(name) or "s3cret")
    assert secrets.get("X_CONSUMER_SECRET") == "s3cret" and asked == ["/responder/prod/x/consumer-secret"]
    with pytest.raises(KeyError):
        secrets.get("NOT_A_SECRET")


def test_clock_starts_at_the_given_instant_and_runs_on():
    ticks = iter([100.0, 100.0, 130.5])
    clock = Clock(parse_instant("2026-11-29T03:00:00Z"), monotonic=lambda: next(ticks))
    assert clock.now() == T0
    assert clock.now() == T0 + timedelta(seconds=30.5)
    with pytest.raises(ValueError, match="UTC offset"):
        parse_instant("2026-11-29T03:00:00")
    fixed = FixedClock(T0)
    fixed.advance(minutes=5)
    assert fixed.now() == T0 + timedelta(minutes=5)


def test_mention_keys_and_validation():
    m = Mention(channel="x", external_id="1", conversation_id="", author_id="9", text="hi", created_at=T0)
    assert (m.key, m.conversation_key, m.identity_key) == ("x#1", "x#1", "x#9")
    assert Mention.from_dict(m.to_dict()) == m
    with pytest.raises(ValueError):
        Mention(channel="fax", external_id="1", conversation_id="", author_id="9", text="hi", created_at=T0)
    with pytest.raises(ValueError):
        Mention(channel="x", external_id="1", conversation_id="", author_id="9", text="hi",
                created_at=datetime(2026, 1, 1))
