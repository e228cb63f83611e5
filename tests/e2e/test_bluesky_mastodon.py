"""Bluesky and Mastodon on the real local stack (`make run`), at 03:00 on a Sunday: mentions injected through the
local-only routes (the stack never calls either platform), the Mastodon mention acknowledged with a status link, the
Bluesky one not (the sample brand keeps Bluesky's default: no automatic acknowledgement), and a linked customer's
chase on the other platform joining their ticket."""
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


def test_bluesky_and_mastodon_mentions_at_3am_sunday_mastodon_acked_and_a_linked_chase_joins(sunday_night_stack):
    stack = sunday_night_stack
    started = time.monotonic()
    inject(stack, "bluesky", {"handle": "pat.bsky.social", "display_name": "Pat",
                                            "text": "@meridianrail.bsky.social my train was cancelled and nobody "
                                                    "told us"})
    mastodon_key = inject(stack, "mastodon", {"acct": "pat@fedi.example", "display_name": "Pat",
                                              "visibility": "direct",
                                              "text": "@meridianrail my train was cancelled, no replacement bus"})
    on_mastodon = stack.wait_for(lambda: acks_on(stack, "mastodon"), timeout=20)
    assert len(on_mastodon) == 1, stack.output()[-3000:]
    assert time.monotonic() - started < 20
    [masto] = on_mastodon
    assert masto["in_reply_to"] == mastodon_key.split("#", 1)[1] and masto["private"] is True  # direct stays direct
    assert f"{stack.base}/s/R" in masto["text"], masto["text"]
    status = stack.get(masto["text"].split(f"{stack.base}")[-1].split()[0].rstrip(".,"),
                       headers={"Accept": "application/json"})
    assert status.status_code == 200, status.text

    # the two accounts are one customer: linking merges the later ticket into the earlier one (once the Bluesky
    # mention, which gets no acknowledgement, has made its ticket)
    def link():
        response = stack.post("/admin/customer-links", json={"identity": "bluesky@pat.bsky.social",
                                                             "with": "mastodon@pat@fedi.example"}, headers=ADMIN)
        return response if response.status_code == 200 and response.json()["changed"] else None

    linked = stack.wait_for(link, timeout=20)
    assert linked, stack.output()[-3000:]
    kept = linked.json()["ticket_id"]
    assert kept != masto["idempotency_key"].split("#")[1]  # the Bluesky ticket came first

    # a chase on Mastodon joins the ticket: no new ticket, no second acknowledgement
    chase = inject(stack, "mastodon", {"acct": "pat@fedi.example", "text": "@meridianrail any news? still stuck"})
    joined = stack.wait_for(lambda: chase in [m["key"] for m in ticket_of(stack, kept)["messages"]]
                            and ticket_of(stack, kept), timeout=20)
    assert joined, stack.output()[-3000:]
    assert {c.split("#")[0] for c in joined["conversations"]} >= {"bluesky", "mastodon"}
    time.sleep(1.5)  # a second acknowledgement, if there were one, would be in the outbox by now
    assert acks_on(stack, "bluesky") == [] and len(acks_on(stack, "mastodon")) == 1
