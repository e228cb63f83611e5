"""Parse once (docs/adr/0020): the inbound queue carries normalized mentions (envelope version 2), packed to fit SQS;
processing reads them without a parser, and still reads the version-1 envelopes (raw platform payloads) an older
version queued."""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from chalicelib.channels import email as email_channel
from chalicelib.domain.inbound import InboundEnvelope
from chalicelib.domain.mention import Mention
from chalicelib.store.queues import MAX_SQS_BYTES
from chalicelib.usecases.ingest import MAX_ENVELOPE_BYTES, TooLargeToQueue, pack
from chalicelib.usecases.legacy_envelope import legacy_envelope, legacy_mentions
from chalicelib.usecases.process import parse_envelope, process_envelope
from chalicelib.usecases.webhooks import receive_meta, receive_x
from tests.helpers import queued, ticket_of, tweet_event, x_body, x_headers
from tests.unit.test_email_parse import build, fixture, ses

META_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "meta"
COMPLAINT = "@ExampleRail my train was cancelled and there is no replacement bus, awful"


def mention(external_id: str, clock, text: str = COMPLAINT, **changes) -> Mention:
    return replace(Mention(channel="x", external_id=external_id, conversation_id=external_id, author_id="77",
                           text=text, created_at=clock.now() - timedelta(minutes=1), author_handle="pat",
                           extra={"tagged": True}), **changes)


def wire(data: dict) -> int:
    """Bytes on SQS, encoded as ``store.queues`` encodes a body."""
    return len(json.dumps(data, separators=(",", ":"), default=str).encode())


def meta_payload() -> dict:
    """Meta's batch fixture, addressed to the local stage's page."""
    return json.loads((META_FIXTURES / "batch.json").read_text().replace("106203948271543", "2000000001"))


def meta_signature(body: bytes) -> str:
    return "sha256=" + hmac.new(b"local-meta-app-secret", body, hashlib.sha256).hexdigest()


def inbound(svc) -> list[dict]:
    return svc.queues.take(svc.settings.inbound_queue)


# ------------------------------------------------------------------------------------------------ the envelope
def test_an_envelope_survives_the_queue_as_it_was(clock):
    envelope = pack([mention("1", clock), mention("2", clock, language="en", followers=9)], source="x",
                    received_at=clock.now())[0]
    body = json.loads(json.dumps(envelope.to_dict()))  # plain JSON: nothing stringified on the way
    assert (body["v"], body["kind"], body["source"]) == (2, "mentions", "x") and "payload" not in body
    assert InboundEnvelope.from_dict(body) == envelope


@pytest.mark.parametrize("body", [
    None, [], {"v": 1, "kind": "x", "payload": {}}, {"v": 2, "kind": "x", "payload": {}},
    {"v": 2, "kind": "mentions", "id": "a", "received_at": "2026-11-29T03:00:00+00:00", "source": "x"},
    {"v": 2, "kind": "mentions", "id": "a", "received_at": "2026-11-29T03:00:00+00:00", "source": "x",
     "mentions": [{"channel": "x"}]},
    {"v": 2, "kind": "mentions", "id": "a", "received_at": "2026-11-29T03:00:00+00:00", "source": "pigeon",
     "mentions": []},
])
def test_anything_but_a_version_2_envelope_is_not_read_as_one(body):
    with pytest.raises(ValueError):
        InboundEnvelope.from_dict(body)


def test_an_unstorable_mention_already_queued_is_left_out_and_named(clock):
    body = queued(mention("1", clock), mention("2", clock), received_at=clock.now())
    body["mentions"][0]["external_id"] = "9" * 5000
    refused: list[str] = []
    envelope = InboundEnvelope.from_dict(body, refused=refused)
    assert [m.external_id for m in envelope.mentions] == ["2"]
    assert len(refused) == 1 and refused[0].startswith("mentions[0]") and "message's id" in refused[0]


def test_mentions_are_packed_in_order_into_messages_sqs_holds(clock):
    mentions = [mention(str(n), clock, text="é" * 5000) for n in range(200)]  # 30 KB each on the wire (\u00e9)
    envelopes = pack(mentions, source="poll", received_at=clock.now())
    assert len(envelopes) > 1 and len({e.id for e in envelopes}) == len(envelopes)
    assert [m for e in envelopes for m in e.mentions] == mentions
    assert all(wire(e.to_dict()) <= MAX_ENVELOPE_BYTES < MAX_SQS_BYTES for e in envelopes)
    assert len(pack(mentions[:5], source="poll", received_at=clock.now())) == 1  # one message, nearly always


def test_a_mention_larger_than_a_queue_message_is_refused_before_anything_is_packed(clock):
    with pytest.raises(TooLargeToQueue):
        pack([mention("1", clock), mention("2", clock, text="é" * 50_000)], source="x", received_at=clock.now())


# ------------------------------------------------------------------------------------------------ parse once
def test_the_x_webhook_queues_what_the_old_processor_would_have_parsed(mem, clock):
    payload = tweet_event("9101", COMPLAINT, user_id="77", at=clock.now() - timedelta(minutes=1))
    body = x_body(payload)
    assert receive_x(mem, body, x_headers(body)["x-twitter-webhooks-signature"]) == {"accepted": 1}
    [message] = inbound(mem)
    assert message["v"] == 2 and message["source"] == "x"
    old = legacy_envelope("x", payload, received_at=clock.now())
    assert parse_envelope(mem, message) == legacy_mentions(mem, old, refused=[])
    [outcome] = process_envelope(mem, message, raw_ref="inbound#m1")
    assert outcome.result == "created" and ticket_of(mem, "x#9101") == outcome.ticket_id
    assert mem.mentions.get("x#9101").mention.raw_ref == "inbound#m1"


def test_the_meta_webhook_queues_every_change_it_counted(mem):
    payload = meta_payload()
    body = json.dumps(payload).encode()
    answer = receive_meta(mem, body, meta_signature(body))
    messages = inbound(mem)
    assert [m["source"] for m in messages] == ["meta"]
    queued_mentions = [m for message in messages for m in parse_envelope(mem, message)]
    assert len(queued_mentions) == answer["accepted"] > 1
    assert queued_mentions == legacy_mentions(mem, legacy_envelope("meta", payload, received_at=mem.now()),
                                              refused=[])


@pytest.mark.parametrize("raw", [fixture("plain.eml"), fixture("reply_with_quote.eml"), fixture("html_only.eml"),
                                 build("Wie lange noch? Mein Zug fällt aus.")])
def test_an_e_mail_mention_is_the_same_after_the_queue(raw):
    for parsed in email_channel.parse_sns_notification(ses(raw)):
        assert Mention.from_dict(json.loads(json.dumps(parsed.to_dict()))) == parsed


# ------------------------------------------------------------------------------------------------ version 1
def test_a_version_1_x_payload_still_queued_is_processed(mem, clock):
    old = legacy_envelope("x", tweet_event("9201", COMPLAINT, user_id="78", at=clock.now() - timedelta(minutes=1)),
                      received_at=clock.now())
    [outcome] = process_envelope(mem, json.loads(json.dumps(old)), raw_ref="inbound#old")
    assert outcome.result == "created" and ticket_of(mem, "x#9201") == outcome.ticket_id
    assert mem.mentions.get("x#9201").owner == old["id"]


def test_version_1_meta_e_mail_and_mentions_envelopes_are_processed(mem, clock):
    outcomes = process_envelope(mem, legacy_envelope("meta", meta_payload(), received_at=clock.now()))
    assert outcomes and all(o.result in ("created", "threaded") for o in outcomes)
    [mail] = process_envelope(mem, legacy_envelope("email", ses(fixture("plain.eml")), received_at=clock.now()))
    assert mail.result == "created"
    normalized = legacy_envelope("mentions", {"source": "poll", "mentions": [mention("9202", clock).to_dict()]},
                                 received_at=clock.now())
    [polled] = process_envelope(mem, normalized)
    assert polled.result in ("created", "threaded") and ticket_of(mem, "x#9202") == polled.ticket_id


def test_the_same_mention_in_an_old_and_a_new_envelope_is_stored_once(mem, clock):
    payload = tweet_event("9203", COMPLAINT, user_id="79", at=clock.now() - timedelta(minutes=1))
    old = legacy_envelope("x", payload, received_at=clock.now())
    new = queued(*legacy_mentions(mem, old, refused=[]), received_at=clock.now())
    assert process_envelope(mem, old)[0].result == "created"
    assert process_envelope(mem, new)[0].result == "duplicate"
