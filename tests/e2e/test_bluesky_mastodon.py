"""Bluesky and Mastodon on the real local stack (`make run`), at 03:00 on a Sunday: mentions injected through the
local-only routes (the stack never calls either platform), one acknowledgement each on its own platform with a
status link, and a linked customer's chase on the other platform joining their ticket."""
from __future__ import annotations

import time

from tests.e2e.test_local_stack import ADMIN

JSON = {"Content-Type": "application/json"}


def outbox(stack) -> list[dict]:
    return stack.get("/local/outbox").json()["messages"]


def acks_on(stack, channel: str) -> list[dict]:
    return [m for m in outbox(stack) if m["channel"] == channel and m["idempotency_key"].startswith("ack#")]


def inject(stack, channel: str, body: dict) -> str:
    response = stack.post(f"/local/{channel}/mentions", json=body, headers=JSON)
    assert response.status_code == 202, response.text
    return response.json()["queued"]


def ticket_of(stack, reference: str) -> dict:
    response = stack.get(f"/admin/tickets/{reference}", headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.json()


def test_bluesky_and_mastodon_mentions_at_3am_sunday_each_get_one_ack_and_a_linked_chase_joins(sunday_night_stack):
    stack = sunday_night_stack
    started = time.monotonic()
    bluesky_key = inject(stack, "bluesky", {"handle": "pat.bsky.social", "display_name": "Pat",
                                            "text": "@meridianrail.bsky.social my train was cancelled and nobody "
                                                    "told us"})
    mastodon_key = inject(stack, "mastodon", {"acct": "pat@fedi.example", "display_name": "Pat",
                                              "visibility": "direct",
                                              "text": "@meridianrail my train was cancelled, no replacement bus"})
    on_bluesky = stack.wait_for(lambda: acks_on(stack, "bluesky"), timeout=20)
    on_mastodon = stack.wait_for(lambda: acks_on(stack, "mastodon"), timeout=20)
    assert len(on_bluesky) == 1 and len(on_mastodon) == 1, stack.output()[-3000:]
    assert time.monotonic() - started < 20
    [bsky], [masto] = on_bluesky, on_mastodon
    assert bsky["in_reply_to"] == bluesky_key.split("#", 1)[1] and not bsky["private"]
    assert masto["in_reply_to"] == mastodon_key.split("#", 1)[1] and masto["private"] is True  # direct stays direct
    for ack in (bsky, masto):
        assert f"{stack.base}/s/R" in ack["text"], ack["text"]
        status = stack.get(ack["text"].split(f"{stack.base}")[-1].split()[0].rstrip(".,"),
                           headers={"Accept": "application/json"})
        assert status.status_code == 200, status.text
    assert "back at" in bsky["text"] and len(bsky["text"]) <= 300

    # the two accounts are one customer: linking merges the later ticket into the earlier one
    linked = stack.post("/admin/customer-links", json={"identity": "bluesky@pat.bsky.social",
                                                       "with": "mastodon@pat@fedi.example"}, headers=ADMIN)
    assert linked.status_code == 200 and linked.json()["changed"], linked.text
    kept = linked.json()["ticket_id"]
    assert kept == bsky["idempotency_key"].split("#")[1]  # the Bluesky ticket came first

    # a chase on Mastodon joins the ticket: no new ticket, no second acknowledgement
    chase = inject(stack, "mastodon", {"acct": "pat@fedi.example", "text": "@meridianrail any news? still stuck"})
    joined = stack.wait_for(lambda: chase in [m["key"] for m in ticket_of(stack, kept)["messages"]]
                            and ticket_of(stack, kept), timeout=20)
    assert joined, stack.output()[-3000:]
    assert {c.split("#")[0] for c in joined["conversations"]} >= {"bluesky", "mastodon"}
    time.sleep(1.5)  # a second acknowledgement, if there were one, would be in the outbox by now
    assert len(acks_on(stack, "bluesky")) == 1 and len(acks_on(stack, "mastodon")) == 1
