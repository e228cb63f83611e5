"""Notices as each platform shows them: desk, priority (urgent stands out), flags, channel, the wait and a link —
never the customer's words or name unless the destination includes them; the digest's lines in order; the
webhook's body as its published schemas define it; and the webhook signature a receiver checks."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import jsonschema
import pytest
from referencing import Registry, Resource

from chalicelib.channels.notify import sign, verify
from chalicelib.domain.notice import (
    DigestNotice,
    TicketNotice,
    digest_notice,
    slack_message,
    teams_message,
    ticket_notice,
    waited,
    webhook_body,
)
from chalicelib.domain.routing import DeskMessage
from tests.conftest import PROJECT

LONDON = ZoneInfo("Europe/London")
AT = datetime(2026, 12, 7, 7, 0, tzinfo=timezone.utc)
NAME, WORDS = "Ada Lovelace", "My train was cancelled and nobody told me, I want a refund"
LINK = "https://help.example.test/inbox/tickets/R7K2M9QXA"


def desk_message(reference: str = "R7K2M9QXA", *, priority: str = "normal", waited_minutes: int = 192,
                 event: str = "ticket.created", **extra: object) -> DeskMessage:
    first = AT - timedelta(minutes=waited_minutes)
    message = {
        "schema": "responder.desk-message/2", "event": event, "ticket_id": reference, "reference": reference,
        "desk": "complaints", "priority": priority, "intent": "complaint", "channel": "x", "language": "en",
        "first_contact_at": first.isoformat(), "sort_key": f"{0 if priority == 'urgent' else 1}#{first.isoformat()}",
        "flags": ["high_reach"], "escalated": False, "desk_open": True, "at": AT.isoformat(),
        "customer_name": NAME, "channels": ["x"], "messages": 2, "conversations": 1,
        "status_url": "https://help.example.test/status/abc", "excerpt": WORDS,
        "permalink": "https://x.com/i/web/status/123", **extra}
    return message  # type: ignore[return-value]


def everything_said(rendered: object) -> str:
    return json.dumps(rendered, ensure_ascii=False)


def schema(name: str) -> dict:
    return json.loads((PROJECT / "docs" / name).read_text())


def validator(name: str) -> jsonschema.Draft202012Validator:
    registry = Registry().with_resources(
        (s["$id"], Resource.from_contents(s)) for s in (schema("desk-message.schema.json"),
                                                         schema("desk-digest.schema.json")))
    return jsonschema.Draft202012Validator(schema(name), registry=registry,
                                           format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


# -- the notice ----------------------------------------------------------------------------------------------------


def test_a_notice_keeps_the_customer_out_unless_their_text_is_given():
    without = ticket_notice(desk_message(), link=LINK)
    assert (without.customer_name, without.text) == (None, None)
    assert (without.reference, without.desk, without.priority, without.flags) == ("R7K2M9QXA", "complaints",
                                                                                 "normal", ("high_reach",))
    assert without.first_contact_at == AT - timedelta(minutes=192) and without.change is None
    included = ticket_notice(desk_message(), link=LINK, text=WORDS)
    assert (included.customer_name, included.text) == (NAME, WORDS)


@pytest.mark.parametrize(("minutes", "said"), [(0, "under a minute"), (42, "42 min"), (60, "1 h"),
                                               (192, "3 h 12 min"), (24 * 60 + 300, "1 d 5 h"), (48 * 60, "2 d")])
def test_the_wait_in_words(minutes, said):
    assert waited(AT - timedelta(minutes=minutes), AT) == said


# -- Slack -----------------------------------------------------------------------------------------------------------


def test_slack_says_desk_priority_flags_channel_wait_and_link_without_the_customer():
    message = slack_message(ticket_notice(desk_message(), link=LINK), include_customer_text=False)
    assert message["text"] == ("New ticket R7K2M9QXA on complaints: complaint on X, waiting 3 h 12 min · high reach")
    said = everything_said(message)
    for part in ("*Desk*\\ncomplaints", "*Priority*\\nnormal", "*Channel*\\nX", "*Waiting*\\n3 h 12 min",
                 "high reach", f"<{LINK}|R7K2M9QXA>", f'"url": "{LINK}"'):
        assert part in said, part
    assert "Lovelace" not in said and "cancelled" not in said and "x.com" not in said and "URGENT" not in said


def test_slack_shows_the_customer_only_when_the_destination_includes_them():
    notice = ticket_notice(desk_message(), link=LINK, text=WORDS)
    assert "Lovelace" not in everything_said(slack_message(notice, include_customer_text=False))
    included = everything_said(slack_message(notice, include_customer_text=True))
    assert f"*{NAME}* wrote:\\n> {WORDS}" in included
    assert "Lovelace" not in everything_said(slack_message(ticket_notice(desk_message(), link=LINK),
                                                      include_customer_text=True))  # nothing given, nothing shown


def test_urgent_stands_out_on_slack():
    message = slack_message(ticket_notice(desk_message(priority="urgent"), link=LINK), include_customer_text=False)
    assert message["text"].startswith("URGENT · New ticket R7K2M9QXA")
    assert message["blocks"][0]["text"]["text"].startswith(":rotating_light: *URGENT* · ")
    assert {"type": "mrkdwn", "text": "*Priority*\n:red_circle: *urgent*"} in message["blocks"][1]["fields"]
    assert message["blocks"][-1]["elements"][0]["style"] == "danger"


def test_slack_escapes_its_control_characters_in_customer_text():
    notice = ticket_notice(desk_message(), link=LINK, text="<!channel> refunds & <https://evil.example|here>")
    said = everything_said(slack_message(notice, include_customer_text=True))
    assert "<!channel>" not in said and "&lt;!channel&gt; refunds &amp; &lt;https://evil.example|here&gt;" in said


def test_later_events_say_what_changed():
    chase = ticket_notice(desk_message(event="ticket.updated", change="chase"), link=LINK)
    breach = ticket_notice(desk_message(event="ticket.sla_breached", minutes_late=12, due_at=AT.isoformat()),
                           link=LINK)
    moved = ticket_notice(desk_message(event="ticket.updated", change="transferred", from_desk="journeys"), link=LINK)
    assert slack_message(chase, include_customer_text=False)["text"].startswith("Customer wrote again R7K2M9QXA")
    assert slack_message(breach, include_customer_text=False)["text"].startswith("Reply overdue (12 min late)")
    assert teams_message(moved, include_customer_text=False)["attachments"][0]["content"]["body"][0]["text"] == \
        "Moved here from journeys R7K2M9QXA on complaints"


# -- Teams -----------------------------------------------------------------------------------------------------------


def test_teams_gets_a_workflows_message_with_an_adaptive_card():
    message = teams_message(ticket_notice(desk_message(priority="urgent"), link=LINK), include_customer_text=False)
    assert message["type"] == "message"
    [attachment] = message["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    title, facts = card["body"][0], card["body"][1]
    assert title["text"] == "URGENT · New ticket R7K2M9QXA on complaints" and title["color"] == "Attention"
    assert {f["title"]: f["value"] for f in facts["facts"]} == {
        "Desk": "complaints", "Priority": "urgent", "Channel": "X", "Waiting": "3 h 12 min", "Intent": "complaint",
        "Flags": "high reach"}
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "Open in the inbox", "url": LINK}]
    assert "Lovelace" not in everything_said(message) and "cancelled" not in everything_said(message)


def test_teams_shows_the_customer_only_when_included():
    notice = ticket_notice(desk_message(), link=LINK, text=WORDS)
    assert "Lovelace" not in everything_said(teams_message(notice, include_customer_text=False))
    body = teams_message(notice, include_customer_text=True)["attachments"][0]["content"]["body"]
    assert [b["text"] for b in body[2:]] == [f"{NAME} wrote:", WORDS]


# -- the digest ------------------------------------------------------------------------------------------------------


def overnight_digest(waiting: int | None = None) -> DigestNotice:
    tickets = [ticket_notice(desk_message("R0000000" + str(n), priority=p, waited_minutes=m), link=f"{LINK}{n}",
                             text=WORDS, tz=LONDON)
               for n, (p, m) in enumerate([("normal", 300), ("urgent", 60), ("normal", 678), ("urgent", 200)])]
    return digest_notice(desk="complaints", team="customer_service", at=AT.astimezone(LONDON), tickets=tickets,
                         waiting=waiting, incidents=["Signal failure at Didcot"],
                         link="https://help.example.test/inbox/desks/complaints")


def test_the_digest_lists_urgent_first_then_the_oldest():
    digest = overnight_digest(waiting=14)
    assert [t.reference for t in digest.tickets] == ["R00000003", "R00000001", "R00000002", "R00000000"]
    assert (digest.waiting, digest.urgent, digest.more) == (14, 2, 10)
    assert digest.oldest_first_contact == AT - timedelta(minutes=678)


def test_the_digest_on_slack_headline_lines_and_the_rest():
    message = slack_message(overnight_digest(waiting=14), include_customer_text=False)
    headline = ("complaints: 14 waited overnight, 2 urgent, oldest since 19:42 · incidents open: Signal failure at "
                "Didcot")
    assert message["text"] == headline
    lines = message["blocks"][2]["text"]["text"].splitlines()
    assert lines == [
        f":red_circle: <{LINK}3|R00000003> · urgent · complaint on X · waiting 3 h 20 min · high reach",
        f":red_circle: <{LINK}1|R00000001> · urgent · complaint on X · waiting 1 h · high reach",
        f"• <{LINK}2|R00000002> · normal · complaint on X · waiting 11 h 18 min · high reach",
        f"• <{LINK}0|R00000000> · normal · complaint on X · waiting 5 h · high reach",
    ]
    assert message["blocks"][-1]["text"]["text"] == (
        "and 10 more: <https://help.example.test/inbox/desks/complaints|the complaints list>")
    assert "Lovelace" not in everything_said(message) and "cancelled" not in everything_said(message)


def test_the_digest_shows_times_in_the_brands_zone():
    summer = datetime(2026, 7, 1, 6, 0, tzinfo=timezone.utc)  # 07:00 in London
    ticket = ticket_notice(desk_message(), link=LINK)
    digest = DigestNotice(desk="complaints", team="customer_service", at=summer, waiting=1, urgent=0,
                          oldest_first_contact=summer - timedelta(hours=11, minutes=18), incidents=(),
                          tickets=(ticket,), more=0, link="")
    assert "oldest since 18:42" in slack_message(digest, include_customer_text=False)["text"]
    assert "oldest since 19:42" in slack_message(digest, include_customer_text=False, tz=LONDON)["text"]


def test_the_digest_on_teams():
    message = teams_message(overnight_digest(waiting=14), include_customer_text=True)
    card = message["attachments"][0]["content"]
    texts = [b["text"] for b in card["body"]]
    assert texts[0] == "customer_service on shift: complaints"
    assert texts[1].startswith("complaints: 14 waited overnight, 2 urgent, oldest since 19:42")
    assert texts[2].startswith(f"[R00000003]({LINK}3) · urgent · complaint on X · waiting 3 h 20 min")
    assert card["body"][2]["color"] == "Attention" and card["body"][4]["color"] == "Default"
    assert texts[-1] == "and 10 more"
    assert "“My train was cancelled" in texts[2]  # included: a short excerpt per line
    assert card["actions"][0]["url"] == "https://help.example.test/inbox/desks/complaints"


# -- the webhook's body ----------------------------------------------------------------------------------------------


def test_the_webhook_body_is_the_desk_message_without_the_customer_by_default():
    message = desk_message(priority="urgent")
    notice = ticket_notice(message, link=LINK)
    body = json.loads(webhook_body(notice))
    validator("desk-message.schema.json").validate(body)
    assert body["customer_name"] == "" and body["status_url"] == ""
    assert "excerpt" not in body and "permalink" not in body
    private = ("customer_name", "status_url", "excerpt", "permalink")
    assert {k: v for k, v in body.items() if k not in private} == {
        k: v for k, v in message.items() if k not in private}
    included = json.loads(webhook_body(notice, include_customer_text=True))
    validator("desk-message.schema.json").validate(included)
    assert included == message  # exactly as the queue carried it


def test_the_digest_webhook_body_follows_its_schema():
    body = json.loads(webhook_body(overnight_digest(waiting=14)))
    validator("desk-digest.schema.json").validate(body)
    assert (body["schema"], body["event"], body["waiting"], body["urgent"], body["more"]) == (
        "responder.desk-digest/1", "desk.digest", 14, 2, 10)
    assert [t["message"]["reference"] for t in body["tickets"]] == ["R00000003", "R00000001", "R00000002",
                                                                    "R00000000"]
    assert "Lovelace" not in json.dumps(body) and "cancelled" not in json.dumps(body)
    assert "/status/" not in json.dumps(body)
    empty = json.loads(webhook_body(digest_notice(desk="complaints", team="day", at=AT, tickets=[], link="")))
    validator("desk-digest.schema.json").validate(empty)
    assert empty["oldest_first_contact_at"] is None and empty["tickets"] == []


def test_a_digest_listing_a_ticket_the_desk_schema_refuses_fails_its_schema():
    bad = TicketNotice(**{**ticket_notice(desk_message(), link=LINK).__dict__,
                          "message": {**desk_message(), "change": "waited"}})
    body = json.loads(webhook_body(digest_notice(desk="complaints", team="day", at=AT, tickets=[bad], link="")))
    with pytest.raises(jsonschema.ValidationError, match="'waited' is not one of"):
        validator("desk-digest.schema.json").validate(body)


# -- signing ---------------------------------------------------------------------------------------------------------

KEY, NOW = "local-helpdesk-signing-key", 1_796_000_000
BODY = b'{"schema":"responder.desk-message/2"}'


def headers(timestamp: int = NOW, body: bytes = BODY, key: str = KEY) -> dict[str, str]:
    return {"X-Responder-Timestamp": str(timestamp), "X-Responder-Signature": sign(key, timestamp, body)}


def test_a_signature_is_hmac_sha256_over_timestamp_dot_body():
    import hashlib
    import hmac

    expected = hmac.new(KEY.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(KEY, NOW, BODY) == "v1=" + expected


def test_verify_round_trip_in_any_header_case_and_within_tolerance():
    assert verify(KEY, headers(), BODY, now=NOW)
    assert verify(KEY, {k.lower(): v for k, v in headers().items()}, BODY, now=NOW + 299)
    rotated = headers()
    rotated["X-Responder-Signature"] = sign("old-key", NOW, BODY) + ", " + rotated["X-Responder-Signature"]
    assert verify(KEY, rotated, BODY, now=NOW)


@pytest.mark.parametrize("case", ["stale", "future", "tampered body", "other key", "no timestamp", "no signature",
                                  "timestamp not a number", "timestamp changed"])
def test_verify_refuses(case):
    given, body, now = headers(), BODY, NOW
    if case == "stale":
        now = NOW + 301
    elif case == "future":
        now = NOW - 301
    elif case == "tampered body":
        body = BODY.replace(b"2", b"3")
    elif case == "other key":
        given = headers(key="another-key")
    elif case == "no timestamp":
        del given["X-Responder-Timestamp"]
    elif case == "no signature":
        del given["X-Responder-Signature"]
    elif case == "timestamp not a number":
        given["X-Responder-Timestamp"] = "-1e9"
    elif case == "timestamp changed":
        given["X-Responder-Timestamp"] = str(NOW + 1)
    assert not verify(KEY, given, body, now=now)
