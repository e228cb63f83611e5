"""The team feed on the in-memory twins: desk consumers follow the rota, a shift starts with a digest of what waited,
desk messages fan out to the team's destinations, deliveries post, thread, retry and park (ADR 0024)."""
from __future__ import annotations

import json

import pytest

from chalicelib.domain.config.notify import NotifyConfig
from chalicelib.domain.mention import Mention
from chalicelib.sqs_batch import RetryLater
from chalicelib.usecases import team_feed
from chalicelib.usecases.process import process_mention
from tests.conftest import LOCAL_ENV, utc
from tests.unit.test_notify_render import validator

NIGHT = utc(2026, 12, 8, 3, 0)  # a Tuesday, 03:00 in London: customer service is off, on-call on
MORNING = utc(2026, 12, 8, 7, 0)  # customer service comes on shift
NOTIFY = {
    "destinations": {
        "care-slack": {"kind": "slack", "secret": "NOTIFY_CARE_SLACK", "channel": "C0CARE"},
        "care-teams": {"kind": "teams", "secret": "NOTIFY_CARE_TEAMS"},
        "helpdesk": {"kind": "webhook", "url": "https://helpdesk.example/hooks/responder",
                     "secret": "NOTIFY_HELPDESK"},
    },
    "desks": {"complaints": ["care-slack", "care-teams", "helpdesk"]},
    "teams": {"oncall": ["care-slack"]},
}
SECRETS = {"NOTIFY_CARE_SLACK": "xoxb-local", "NOTIFY_CARE_TEAMS": "https://teams.example/workflow",
           "NOTIFY_HELPDESK": "local-helpdesk-key"}


@pytest.fixture
def feed(mem, monkeypatch):
    for name, value in SECRETS.items():  # the stage's documented dummies, as .chalice/config.json would give them
        monkeypatch.setitem(LOCAL_ENV, name, value)
    mem.config = mem.config.model_copy(update={"notify": NotifyConfig.model_validate(NOTIFY)})
    mem.clock.set(NIGHT)
    return mem


def complaint(n: int, at, text: str = "@MeridianRail my train was cancelled and nobody helped, awful") -> Mention:
    return Mention(channel="x", external_id=str(n), conversation_id=str(n), author_id=f"a{n}", text=text,
                   created_at=at, author_handle=f"user{n}", author_name=f"User {n}")


def desk_queue(svc, desk: str) -> list[dict]:
    return svc.queues.take(svc.config.queue_name(desk))


def notices(svc) -> list[dict]:
    return svc.queues.take(svc.queues.notify)


def deliver_all(svc, deliveries: list[dict]) -> list[str]:
    return [team_feed.deliver_notice(svc, d, receive_count=1, queue_name="responder-notify") for d in deliveries]


def posted(svc) -> list[dict]:
    return list(reversed(svc.stores.notify_log.recent(limit=500)))


def test_consumers_follow_the_rota_and_a_desk_switched_on_gets_its_digest_first(feed):
    result = team_feed.follow_rota(feed)
    assert "oncall" in result.on and "complaints" not in result.on  # on-call is on shift around the clock
    assert not feed.consumers.enabled("complaints") and feed.consumers.enabled("oncall")
    for n in range(3):
        process_mention(feed, complaint(n, NIGHT))
    assert team_feed.follow_rota(feed).on == []  # nothing changes at night: the complaints wait in their queue

    feed.clock.set(MORNING)
    result = team_feed.follow_rota(feed)
    assert set(result.on) >= {"complaints", "journeys"} and feed.consumers.enabled("complaints")
    assert result.digests["complaints"] == 3  # one digest per destination of the desk
    digests = notices(feed)
    assert {d["destination"] for d in digests if d["desk"] == "complaints"} == {"care-slack", "care-teams",
                                                                                "helpdesk"}
    digest = next(d for d in digests if d["desk"] == "complaints")["digest"]
    assert digest["waiting"] == 3 and digest["more"] == 0 and len(digest["tickets"]) == 3
    assert team_feed.follow_rota(feed).on == []  # on already: no second digest


def test_the_night_queue_is_covered_by_the_digest_in_chat_and_delivered_whole_to_the_webhook(feed):
    team_feed.follow_rota(feed)
    for n in range(2):
        process_mention(feed, complaint(n, NIGHT))
    night = desk_queue(feed, "complaints")
    assert len(night) == 2
    feed.clock.set(MORNING)
    team_feed.follow_rota(feed)
    deliver_all(feed, notices(feed))
    # the queue's messages are consumed after the switch: chat already has them in the digest
    for i, message in enumerate(night):
        team_feed.consume_desk_message(feed, "complaints", message, message_id=f"m{i}")
    deliveries = notices(feed)
    assert {d["destination"] for d in deliveries} == {"helpdesk"}
    deliver_all(feed, deliveries)
    log = posted(feed)
    assert [e["event"] for e in log if e["destination"] == "care-slack"] == ["desk.digest"]
    hooks = [e for e in log if e["destination"] == "helpdesk"]
    assert sorted(e["event"] for e in hooks) == ["desk.digest", "ticket.created", "ticket.created"]
    assert all(e["verified"] for e in hooks)
    bodies = sorted((json.loads(e["raw_body"]) for e in hooks if e["event"] == "ticket.created"),
                    key=lambda b: b["ticket_id"])
    # the customer's words (excerpt), post (permalink), name and status link are left out unless the destination
    # includes the customer's text
    assert bodies == [{**{k: v for k, v in m.items() if k not in ("excerpt", "permalink")}, "customer_name": "",
                       "status_url": ""} for m in sorted(night, key=lambda b: b["ticket_id"])]
    [digest] = [json.loads(e["raw_body"]) for e in hooks if e["event"] == "desk.digest"]
    validator("desk-digest.schema.json").validate(digest)
    assert digest["waiting"] == 2 and len(digest["tickets"]) == 2


def test_new_work_on_shift_reaches_every_destination_and_updates_thread_under_it_in_slack(feed):
    feed.clock.set(MORNING)
    team_feed.follow_rota(feed)
    notices(feed)
    feed.clock.set(utc(2026, 12, 8, 10, 0))
    outcome = process_mention(feed, complaint(7, feed.now(), "@MeridianRail stranded at Didcot with two kids, "
                                                              "no trains, please help urgently"))
    [created] = desk_queue(feed, "complaints") or desk_queue(feed, "oncall")
    assert team_feed.consume_desk_message(feed, created["desk"], created, message_id="c1") >= 1
    deliver_all(feed, notices(feed))
    first = [e for e in posted(feed) if e["reference"] == outcome.ticket_id]
    assert {e["destination"] for e in first} >= {"care-slack"}
    slack = next(e for e in first if e["destination"] == "care-slack")
    assert slack["thread"] is None and slack["ts"]
    assert feed.stores.feed.thread("care-slack", outcome.ticket_id) == slack["ts"]

    update = {**created, "event": "ticket.updated", "change": "claimed", "at": feed.now().isoformat()}
    team_feed.consume_desk_message(feed, created["desk"], update, message_id="u1")
    deliveries = notices(feed)
    # Teams cannot thread: an update goes to Slack (threaded) and the webhook, never as a new Teams message
    assert "care-teams" not in {d["destination"] for d in deliveries}
    outcomes = deliver_all(feed, deliveries)
    assert "threaded" in outcomes
    threaded = [e for e in posted(feed) if e["reference"] == outcome.ticket_id and e["thread"]]
    assert [e["thread"] for e in threaded] == [slack["ts"]]


def test_no_customer_words_or_name_reach_a_chat_unless_the_brand_turns_them_on(feed):
    feed.clock.set(MORNING)
    team_feed.follow_rota(feed)
    notices(feed)
    process_mention(feed, complaint(9, feed.now(), "@MeridianRail my refund for booking ABC123 never came, awful"))
    [created] = desk_queue(feed, "complaints")
    team_feed.consume_desk_message(feed, "complaints", created, message_id="c9")
    deliver_all(feed, notices(feed))
    chat = json.dumps([e["body"] for e in posted(feed) if e["kind"] in ("slack", "teams")])
    assert "ABC123" not in chat and "User 9" not in chat and "refund" not in chat


def test_a_refusal_for_good_is_parked_with_its_reason_and_a_passing_failure_retried_later(feed, monkeypatch):
    from chalicelib.channels.notify import NotifyFailed

    feed.clock.set(MORNING)
    delivery = {"schema": "responder.notice/1", "id": "x-helpdesk", "kind": "ticket", "destination": "helpdesk",
                "desk": "complaints", "message": _desk_message(feed)}

    def refuse(*args, **kwargs):
        raise NotifyFailed("401 Unauthorized", retryable=False)

    monkeypatch.setattr(feed.notifier, "post", refuse)
    assert team_feed.deliver_notice(feed, delivery, receive_count=1, queue_name="responder-notify") == "parked"
    [parked] = feed.queues.take("responder-notify-dlq")
    assert parked["reason"] == "refused for good: 401 Unauthorized" and parked["delivery"] == delivery

    def busy(*args, **kwargs):
        raise NotifyFailed("429 rate limited", retryable=True, retry_after=40)

    monkeypatch.setattr(feed.notifier, "post", busy)
    with pytest.raises(RetryLater) as later:
        team_feed.deliver_notice(feed, delivery, receive_count=2, queue_name="responder-notify")
    assert later.value.seconds == 40  # what the platform asked for, when longer than the backoff (30 s)
    assert team_feed.backoff(1) == 15 and team_feed.backoff(4) == 120 and team_feed.backoff(12) == 900


def test_a_destination_removed_from_the_brand_file_parks_its_deliveries(feed):
    delivery = {"schema": "responder.notice/1", "id": "x-gone", "kind": "ticket", "destination": "gone",
                "desk": "complaints", "message": _desk_message(feed)}
    assert team_feed.deliver_notice(feed, delivery, receive_count=1, queue_name="responder-notify") == "parked"
    [parked] = feed.queues.take("responder-notify-dlq")
    assert "no longer in the brand file" in parked["reason"]


def test_a_body_that_is_not_a_desk_message_is_refused(feed):
    with pytest.raises(team_feed.NotADeskMessage):
        team_feed.consume_desk_message(feed, "complaints", {"schema": "something/1"}, message_id="z")


def test_a_desk_with_no_destination_consumes_and_queues_nothing(feed):
    feed.clock.set(MORNING)
    team_feed.follow_rota(feed)
    notices(feed)
    process_mention(feed, complaint(3, feed.now(), "@MeridianRail what time is the first train to Oxford?"))
    [message] = desk_queue(feed, "journeys")
    assert team_feed.consume_desk_message(feed, "journeys", message, message_id="j") == 0
    assert notices(feed) == []


def _desk_message(svc) -> dict:
    process_mention(svc, complaint(42, svc.now()))
    return (desk_queue(svc, "complaints") or desk_queue(svc, "oncall"))[0]


def test_a_destination_whose_secret_was_never_set_is_off_and_its_notice_skipped(feed, monkeypatch):
    monkeypatch.delitem(LOCAL_ENV, "NOTIFY_HELPDESK")
    delivery = {"schema": "responder.notice/1", "id": "x-helpdesk", "kind": "ticket", "destination": "helpdesk",
                "desk": "complaints", "message": _desk_message(feed)}
    assert team_feed.deliver_notice(feed, delivery, receive_count=1, queue_name="responder-notify") == "skipped"
    assert feed.queues.take("responder-notify-dlq") == [] and posted(feed) == []


def test_a_digest_hides_only_what_it_told_and_never_an_urgent_ticket_it_did_not_list():
    from chalicelib.store.ports import DigestMark

    at = MORNING.isoformat()
    event = {"ticket_id": "RLISTED01", "at": utc(2026, 12, 8, 6, 59).isoformat(), "priority": "normal"}
    assert team_feed.told_in_digest(None, event) is False
    told_nothing = DigestMark(at=MORNING)  # nothing waited: a ticket saved while the digest counted is still posted
    assert team_feed.told_in_digest(told_nothing, event) is False
    listed = DigestMark(at=MORNING, listed=("RLISTED01",))
    assert team_feed.told_in_digest(listed, event) is True
    assert team_feed.told_in_digest(listed, {**event, "at": at.replace("07:00", "07:01")}) is False  # newer: posted
    assert team_feed.told_in_digest(listed, {**event, "ticket_id": "ROTHER001"}) is False
    counted = DigestMark(at=MORNING, listed=("RLISTED01",), more=40)
    assert team_feed.told_in_digest(counted, {**event, "ticket_id": "ROTHER001"}) is True  # among the "N more"
    assert team_feed.told_in_digest(counted, {**event, "ticket_id": "ROTHER001", "priority": "urgent"}) is False


def test_an_urgent_ticket_saved_while_a_desk_with_nothing_waiting_comes_on_shift_still_reaches_chat(feed):
    feed.clock.set(MORNING)
    team_feed.follow_rota(feed)  # nothing waited: no digest, nothing to hide
    process_mention(feed, complaint(11, utc(2026, 12, 8, 6, 59, 59), "@MeridianRail stranded at Didcot with two "
                                                                     "kids, no trains, please help urgently"))
    message = next(m for m in desk_queue(feed, "complaints") + desk_queue(feed, "oncall"))
    message = {**message, "at": utc(2026, 12, 8, 6, 59, 59).isoformat()}  # stamped just before the rota's run
    team_feed.consume_desk_message(feed, message["desk"], message, message_id="race")
    assert "care-slack" in {d["destination"] for d in notices(feed)}


def test_a_chase_that_moved_the_ticket_to_another_desk_is_new_work_for_that_desks_team():
    chase = {"event": "ticket.updated", "change": "chase"}
    assert team_feed.is_new_work(chase) is False
    assert team_feed.is_new_work({**chase, "from_desk": "complaints"}) is True
    assert team_feed.is_new_work({"event": "ticket.updated", "change": "transferred"}) is True


def test_a_desk_message_delivered_again_is_handed_to_the_team_once(feed):
    feed.clock.set(MORNING)
    team_feed.follow_rota(feed)
    notices(feed)
    process_mention(feed, complaint(21, feed.now()))
    [message] = desk_queue(feed, "complaints")
    assert team_feed.consume_desk_message(feed, "complaints", message, message_id="first") == 3  # slack, teams, hook
    # SQS delivers at least once, and a retried attempt announces again with the same `at`
    assert team_feed.consume_desk_message(feed, "complaints", dict(message), message_id="again") == 0
    later = {**message, "event": "ticket.updated", "change": "chase", "at": utc(2026, 12, 8, 7, 5).isoformat()}
    assert team_feed.consume_desk_message(feed, "complaints", later, message_id="chase") >= 1
    assert len(notices(feed)) >= 3


def test_the_webhook_gets_every_event_of_a_ticket_not_only_new_work(feed):
    feed.clock.set(MORNING)
    team_feed.follow_rota(feed)
    notices(feed)
    process_mention(feed, complaint(31, feed.now()))
    [created] = desk_queue(feed, "complaints")
    chase = {**created, "event": "ticket.updated", "change": "chase", "at": utc(2026, 12, 8, 7, 10).isoformat()}
    for n, message in enumerate((created, chase)):
        team_feed.consume_desk_message(feed, "complaints", message, message_id=f"w{n}")
    deliver_all(feed, notices(feed))
    hooks = [e for e in posted(feed) if e["destination"] == "helpdesk"]
    assert sorted(e["event"] for e in hooks) == ["ticket.created", "ticket.updated"]
    teams = [e for e in posted(feed) if e["destination"] == "care-teams"]
    assert [e["event"] for e in teams] == ["ticket.created"]  # Teams cannot thread: new work only
