"""WhatsApp Cloud API inbound through the real Chalice route (``POST /webhooks/meta``, the Meta app's secret), the
real SQS handlers and DynamoDB on moto: messages become tickets with one acknowledgement on WhatsApp, statuses are
recorded and never ticketed, forged deliveries are refused, and a phone number stays out of logs and notices."""
from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import receive_all, run_pipeline
from tests.helpers import ticket_of, tweet_event, x_body, x_headers
from tests.integration.test_observability import app_log, emf, named  # noqa: F401 - fixtures

SECRET = b"local-meta-app-secret"
PHONE_ID = "4000000001"  # WHATSAPP_PHONE_NUMBER_IDS of stage local
WA_ID = "447700900123"
FUZZ = settings(max_examples=60, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def signed(body: bytes, secret: bytes = SECRET) -> dict:
    return {"Content-Type": "application/json",
            "X-Hub-Signature-256": "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()}


def text_message(wamid: str, text: str, at, *, wa_id: str = WA_ID) -> dict:
    return {"from": wa_id, "id": wamid, "timestamp": str(int(at.timestamp())), "type": "text", "text": {"body": text}}


def delivery(*messages: dict, statuses: list[dict] | None = None, phone_number_id: str = PHONE_ID,
             name: str = "Pat Rider", wa_id: str = WA_ID) -> bytes:
    value: dict = {"messaging_product": "whatsapp",
                   "metadata": {"display_phone_number": "15550000000", "phone_number_id": phone_number_id}}
    if messages:
        value["contacts"] = [{"profile": {"name": name}, "wa_id": wa_id}]
        value["messages"] = list(messages)
    if statuses is not None:
        value["statuses"] = statuses
    return json.dumps({"object": "whatsapp_business_account",
                       "entry": [{"id": "5000000001", "changes": [{"field": "messages", "value": value}]}]}).encode()


def post(client, body: bytes, headers: dict | None = None):
    return client.http.post("/webhooks/meta", body=body, headers=signed(body) if headers is None else headers)


def acks(svc) -> list[dict]:
    return [m for m in svc.sandbox.recent() if m["channel"] == "whatsapp" and m["idempotency_key"].startswith("ack#")]


# ------------------------------------------------------------------------------------------------ messages
def test_a_signed_message_becomes_a_whatsapp_ticket_with_one_private_acknowledgement(client, svc, clock):
    body = delivery(text_message("wamid.T1", "My train was cancelled, how do I get a refund?", clock.now()))
    response = post(client, body)
    assert response.status_code == 200, response.body
    assert response.json_body == {"accepted": 1}
    [queued] = receive_all("responder-inbound")
    [mention] = json.loads(queued["Body"])["mentions"]
    assert (mention["channel"], mention["author_id"], mention["visibility"]) == ("whatsapp", WA_ID, "private")
    assert mention["extra"]["phone_number_id"] == PHONE_ID

    post(client, body)  # Meta's retry of the same delivery
    run_pipeline()
    ticket = svc.tickets.get(ticket_of(svc, "whatsapp#wamid.T1"))
    assert ticket.channel == "whatsapp" and ticket.customer_id == svc.customers.lookup(f"whatsapp#{WA_ID}")
    [ack] = acks(svc)
    assert ack["recipient"] == WA_ID and ack["private"] is True and ack["in_reply_to"] == "wamid.T1"
    assert "https://help.example.test/s/" in ack["text"]  # a private reply carries the status link


def test_media_without_a_caption_is_still_a_message_the_agent_sees(client, svc, clock):
    image = {"from": WA_ID, "id": "wamid.IMG", "timestamp": str(int(clock.now().timestamp())), "type": "image",
             "image": {"id": "1013859600285441", "mime_type": "image/jpeg", "sha256": "abc"}}
    assert post(client, delivery(image)).json_body == {"accepted": 1}
    run_pipeline()
    stored = svc.mentions.get("whatsapp#wamid.IMG").mention
    assert stored.text == "[image]" and stored.extra["media"] == {"type": "image", "id": "1013859600285441",
                                                                   "mime_type": "image/jpeg"}
    assert len(acks(svc)) == 1  # never silence


def test_a_message_to_another_number_of_the_account_is_not_taken(client, clock):
    body = delivery(text_message("wamid.OTHER", "hello", clock.now()), phone_number_id="9999")
    assert post(client, body).json_body == {"accepted": 0}
    assert receive_all("responder-inbound") == []


def test_a_batch_with_one_bad_message_keeps_its_neighbours(client, svc, clock):
    bad = {"from": WA_ID, "id": "wamid.B2", "timestamp": "not-a-time", "type": "text", "text": {"body": "x"}}
    body = delivery(text_message("wamid.B1", "Lost my bag on the 18:22", clock.now()), bad,
                    text_message("wamid.B3", "It is a blue rucksack", clock.now(), wa_id="447700900124"))
    response = post(client, body)
    assert response.status_code == 200, response.body
    assert response.json_body["accepted"] == 2
    [refused] = response.json_body["refused"]
    assert refused.startswith("entry[0].changes[0].value.messages[1]:") and "timestamp" in refused
    run_pipeline()
    assert svc.mentions.get("whatsapp#wamid.B1") is not None and svc.mentions.get("whatsapp#wamid.B3") is not None
    assert svc.mentions.get("whatsapp#wamid.B2") is None


def test_a_delivery_with_nothing_readable_is_a_clear_422_and_a_broken_envelope_a_400(client):
    bad = {"from": WA_ID, "id": "wamid.X", "timestamp": "1796526000", "type": "text", "text": {"body": 7}}
    response = post(client, delivery(bad))
    assert response.status_code == 422 and "text.body must be a string" in response.json_body["error"]
    broken = json.dumps({"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages",
                                                                                        "value": {}}]}]}).encode()
    response = post(client, broken)
    assert response.status_code == 400
    assert "entry[0].changes[0].value.metadata" in response.json_body["error"]
    assert receive_all("responder-inbound") == []


# ------------------------------------------------------------------------------------------------ signatures
@pytest.mark.parametrize("headers", [
    {"Content-Type": "application/json"},
    {"Content-Type": "application/json", "X-Hub-Signature-256": "sha256=" + "0" * 64},
    {"Content-Type": "application/json", "X-Hub-Signature-256": ""},
])
def test_unsigned_or_forged_deliveries_are_refused_and_nothing_is_queued(client, clock, headers):
    body = delivery(text_message("wamid.F1", "hello", clock.now()))
    response = post(client, body, headers)
    assert response.status_code == 401 and "X-Hub-Signature-256" in response.json_body["error"]
    assert post(client, body, signed(body, b"another-apps-secret")).status_code == 401
    assert receive_all("responder-inbound") == []


signatures = st.one_of(
    st.text(max_size=80),
    st.binary(min_size=32, max_size=32).map(lambda b: "sha256=" + b.hex()),
    st.text(alphabet="0123456789abcdefABCDEF", min_size=60, max_size=68).map(lambda s: "sha256=" + s),
    st.sampled_from(["sha256=", "sha1=" + "0" * 40, "SHA256=" + "f" * 64, " sha256=" + "a" * 64 + " "]),
)


@FUZZ
@given(signature=signatures)
def test_fuzzed_signatures_are_never_accepted_and_never_a_5xx(client, clock, signature):
    body = delivery(text_message("wamid.FZ", "hello", clock.now()))
    genuine = signed(body)["X-Hub-Signature-256"]
    response = post(client, body, {"Content-Type": "application/json", "X-Hub-Signature-256": signature})
    if signature.strip().lower() == genuine.lower():  # hypothesis found the HMAC: not a forgery
        return
    assert response.status_code == 401, (signature, response.status_code)


scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(
    ["entry", "changes", "field", "value", "metadata", "phone_number_id", "messages", "statuses", "contacts", "wa_id",
     "from", "id", "type", "text", "body", "timestamp", "status", "errors", "code", "context"]), inner, max_size=4),
    max_leaves=25)


@FUZZ
@given(rest=st.dictionaries(st.sampled_from(["entry"]), values, max_size=1),
       entry=st.lists(st.fixed_dictionaries({"changes": st.lists(st.fixed_dictionaries(
           {"field": st.just("messages"), "value": values}), max_size=2)}), max_size=2))
def test_fuzzed_signed_deliveries_are_answered_2xx_or_4xx_never_5xx(client, rest, entry):
    body = json.dumps({"object": "whatsapp_business_account", "entry": entry, **rest}).encode()
    response = post(client, body)
    assert response.status_code < 500, (response.status_code, body[:300], response.body[:300])


# ------------------------------------------------------------------------------------------------ statuses
def test_statuses_are_recorded_for_the_ticket_counted_when_failed_and_never_ticketed(client, svc, clock, emf):  # noqa: F811
    assert post(client, delivery(text_message("wamid.S0", "Where is my refund?", clock.now()))).status_code == 200
    run_pipeline()
    [ack] = acks(svc)
    sent_id = ack["external_id"]  # what the sender answered: the wamid statuses name
    ticket_id = ticket_of(svc, "whatsapp#wamid.S0")
    tickets_before = len(list(svc.tickets.open_tickets()))
    emf()

    at = str(int(clock.now().timestamp()))
    statuses = [{"id": sent_id, "status": "sent", "timestamp": at, "recipient_id": WA_ID},
                {"id": sent_id, "status": "delivered", "timestamp": at, "recipient_id": WA_ID},
                {"id": "wamid.UNKNOWN", "status": "failed", "timestamp": at, "recipient_id": WA_ID,
                 "errors": [{"code": 131026, "title": "Message undeliverable",
                             "error_data": {"details": "Message Undeliverable."}}]}]
    response = post(client, delivery(statuses=statuses))
    assert response.status_code == 200 and response.json_body == {"accepted": 0, "statuses": 3}
    assert receive_all("responder-inbound") == []  # nothing queued: a status is no message
    run_pipeline()
    assert len(list(svc.tickets.open_tickets())) == tickets_before and len(acks(svc)) == 1

    from chalicelib.usecases.whatsapp_statuses import summary

    recorded = svc.whatsapp_statuses.of(sent_id)
    assert set(recorded) == {"sent", "delivered"} and recorded["delivered"]["ticket_id"] == ticket_id
    assert WA_ID not in json.dumps(recorded)  # no phone number kept with a status
    assert summary(svc, sent_id) == "delivered"
    assert summary(svc, "wamid.UNKNOWN") == "failed: 131026 Message Undeliverable."
    assert named(emf(), "WhatsAppMessagesFailed", code="131026") == [1]

    read = [{"id": sent_id, "status": "read", "timestamp": at, "recipient_id": WA_ID}]
    assert post(client, delivery(statuses=read)).json_body == {"accepted": 0, "statuses": 1}
    assert summary(svc, sent_id) == "read"
    view = client.http.get(f"/admin/tickets/{ticket_id}", headers={"Authorization": "Bearer local-admin-token"})
    assert view.status_code == 200 and view.json_body["whatsapp_statuses"] == {sent_id: "read"}


# ------------------------------------------------------------------------------------------------ one customer
def test_a_whatsapp_customer_who_names_their_x_handle_keeps_one_ticket(client, svc, clock):
    tweet = x_body(tweet_event("8801", "@MeridianRail my train was cancelled and nobody told us", user_id="77",
                               handle="pat_rides", at=clock.now()))
    assert client.http.post("/webhooks/x", body=tweet, headers=x_headers(tweet)).status_code == 200
    run_pipeline()
    first = ticket_of(svc, "x#8801")

    body = delivery(text_message("wamid.L1", "Hi, I'm @pat_rides on X - still stuck at Leeds, any news?",
                                 clock.now()))
    assert post(client, body).json_body == {"accepted": 1}
    run_pipeline()
    assert ticket_of(svc, "whatsapp#wamid.L1") == first
    assert [t.ticket_id for t in svc.tickets.open_tickets()] == [first]
    ticket = svc.tickets.get(first)
    assert set(ticket.channels) >= {"x", "whatsapp"}
    assert svc.customers.lookup(f"whatsapp#{WA_ID}") == svc.customers.lookup("x@pat_rides")
    # acknowledged once per open case: the X reply went out, the WhatsApp message joining the case gets none
    assert [m["channel"] for m in svc.sandbox.recent() if m["idempotency_key"].startswith("ack#")] == ["x"]


def test_an_agent_links_a_whatsapp_number_typed_as_people_write_it(client, svc, clock):
    tweet = x_body(tweet_event("8802", "@MeridianRail refund please, the 07:12 was cancelled", user_id="78",
                               handle="sam_rides", at=clock.now()))
    client.http.post("/webhooks/x", body=tweet, headers=x_headers(tweet))
    post(client, delivery(text_message("wamid.L2", "Refund please", clock.now(), wa_id="447700900555")))
    run_pipeline()
    assert len(list(svc.tickets.open_tickets())) == 2
    linked = client.http.post("/admin/customer-links", body=json.dumps(
        {"identity": "whatsapp#+44 7700 900555", "with": "x@sam_rides"}),
        headers={"Authorization": "Bearer local-admin-token", "Content-Type": "application/json"})
    assert linked.status_code == 200, linked.body
    assert [t.ticket_id for t in svc.tickets.open_tickets()] == [ticket_of(svc, "x#8802")]
    refused = client.http.post("/admin/customer-links", body=json.dumps(
        {"identity": "whatsapp#pat", "with": "x@sam_rides"}),
        headers={"Authorization": "Bearer local-admin-token", "Content-Type": "application/json"})
    assert refused.status_code == 422 and "E.164" in refused.json_body["error"]


# ------------------------------------------------------------------------------------------------ personal data
def test_the_phone_number_is_in_no_log_line_no_desk_notice_and_not_on_the_status_page(client, svc, clock,
                                                                                      app_log, capsys):  # noqa: F811
    from chalicelib.domain.notice import slack_message, teams_message, ticket_notice, webhook_body

    post(client, delivery(text_message("wamid.P1", "My train was cancelled, refund please", clock.now())))
    run_pipeline()
    printed = capsys.readouterr().out
    assert "[outbox] whatsapp -> +44 ••• ••• 0123" in printed and WA_ID not in printed
    assert WA_ID not in json.dumps(app_log())

    ticket = svc.tickets.get(ticket_of(svc, "whatsapp#wamid.P1"))
    [desk_message] = [json.loads(m["Body"]) for m in receive_all(f"responder-desk-{ticket.desk}")]
    assert desk_message["customer_name"] == "Pat Rider" and WA_ID not in json.dumps(desk_message)
    notice = ticket_notice(desk_message, link="https://inbox.example/t/1", text="refund please")
    for rendered in (slack_message(notice, include_customer_text=False),
                     teams_message(notice, include_customer_text=False)):
        assert WA_ID not in json.dumps(rendered) and "Pat Rider" not in json.dumps(rendered)
    assert WA_ID.encode() not in webhook_body(notice)

    [ack] = acks(svc)
    link = ack["text"].split("https://help.example.test")[1].split()[0].rstrip(".,")
    for accept in ("text/html", "application/json"):
        page = client.http.get(link, headers={"Accept": accept})
        assert page.status_code == 200 and WA_ID not in page.body.decode() and "0123" not in page.body.decode()


def test_the_status_store_keeps_one_contract_in_memory_and_on_dynamodb(svc):
    from chalicelib.bootstrap import memory_stores

    for store in (svc.stores.whatsapp_statuses, memory_stores().whatsapp_statuses):
        store.record("wamid.C1", "sent", {"status": "sent", "ticket_id": "R1"})
        store.record("wamid.C1", "delivered", {"status": "delivered", "ticket_id": "R1"})
        store.record("wamid.C1", "delivered", {"status": "delivered", "ticket_id": "R1", "again": True})
        store.record("wamid.C2", "failed", {"status": "failed", "ticket_id": ""})
        assert store.of("wamid.C1") == {"sent": {"status": "sent", "ticket_id": "R1"},
                                        "delivered": {"status": "delivered", "ticket_id": "R1", "again": True}}
        assert store.of("wamid.NONE") == {}
        assert store.for_ticket("R1") == {"wamid.C1": store.of("wamid.C1")}
        assert store.for_ticket("R2") == {} and "wamid.C2" not in store.for_ticket("")
