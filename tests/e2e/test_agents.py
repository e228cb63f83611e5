"""Agents on the real local stack (`make run`): sign-in against moto's Cognito, two agents racing for the next
ticket a hundred times each, replies reaching the customer's channel, the busy acknowledgement."""
from __future__ import annotations

import threading
from collections import Counter

from tests.e2e.test_local_stack import send_tweet

TICKETS = 120


def sign_in(stack, username: str, password: str) -> dict[str, str]:
    response = stack.post("/agent/sign-in", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def waiting(stack, headers) -> int:
    return sum(d["depth"] for d in stack.get("/agent/me", headers=headers).json()["desks"])


def test_two_agents_calling_next_concurrently_never_hold_the_same_ticket(wednesday_stack):
    stack = wednesday_stack
    for n in range(TICKETS):
        send_tweet(stack, str(500_000 + n), f"@MeridianRail train {n} cancelled, no replacement bus, awful",
                   user_id=str(90_000 + n))
    amira, ben = sign_in(stack, "amira", "Amira-local-1"), sign_in(stack, "ben", "Ben-local-1")
    assert stack.wait_for(lambda: waiting(stack, amira) == TICKETS, timeout=60), waiting(stack, amira)

    taken: dict[str, list[str]] = {"amira": [], "ben": []}
    failures: list[str] = []

    def work(name: str, headers: dict[str, str]) -> None:
        for _ in range(100):
            response = stack.post("/agent/next", json={}, headers=headers)
            if response.status_code != 200:
                failures.append(f"{response.status_code} {response.text[:200]}")
                continue
            ticket = response.json()["ticket"]
            if ticket:
                taken[name].append(ticket["ticket_id"])

    threads = [threading.Thread(target=work, args=args) for args in (("amira", amira), ("ben", ben))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    held = Counter(taken["amira"] + taken["ben"])
    assert [ticket for ticket, times in held.items() if times > 1] == []  # nobody got a ticket twice
    assert len(held) == TICKETS and len(taken["amira"]) + len(taken["ben"]) == TICKETS
    assert taken["amira"] and taken["ben"]  # both took their share
    me = stack.get("/agent/me", headers=amira).json()
    assert {t["ticket_id"] for t in me["held"]} == set(taken["amira"])


def test_a_reply_reaches_the_customers_channel_and_the_status_page(wednesday_stack):
    stack = wednesday_stack
    amira = sign_in(stack, "amira", "Amira-local-1")
    ticket_id = stack.get("/agent/me", headers=amira).json()["held"][0]["ticket_id"]
    ticket = stack.get(f"/agent/tickets/{ticket_id}", headers=amira).json()
    tweet_id = ticket["messages"][0]["key"].split("#", 1)[1]
    reply = stack.post(f"/agent/tickets/{ticket_id}/reply", json={"text": "Sorry - we're on it, one moment."},
                       headers=amira)
    assert reply.status_code == 200, reply.text

    def delivered():
        return [m for m in stack.get("/local/outbox").json()["messages"]
                if m["in_reply_to"] == tweet_id and m["text"] == "Sorry - we're on it, one moment."]

    sent = stack.wait_for(delivered, timeout=10)
    assert sent and sent[0]["channel"] == "x"
    token = ticket["status_url"].rsplit("/", 1)[1]
    page = stack.get(f"/s/{token}", headers={"Accept": "application/json"}).json()
    assert "We replied to you" in [e["text"] for e in page["timeline"]]


def test_busy_acknowledgement_only_when_the_queue_is_long_for_the_teams_pace(wednesday_stack):
    stack = wednesday_stack
    amira = sign_in(stack, "amira", "Amira-local-1")
    held = stack.get("/agent/me", headers=amira).json()["held"]
    for ticket in held[1:10]:  # ten first answers in the last hour (one in the test above)
        response = stack.post(f"/agent/tickets/{ticket['ticket_id']}/reply", json={"text": "Looking into it now."},
                              headers=amira)
        assert response.status_code == 200, response.text
    assert waiting(stack, amira) == 0

    def told(tweet_id: str) -> list[dict]:
        return [m for m in stack.get("/local/outbox").json()["messages"] if m["in_reply_to"] == tweet_id]

    send_tweet(stack, "600000", "@MeridianRail my train was cancelled, awful", user_id="95000")
    assert stack.wait_for(lambda: waiting(stack, amira) == 1, timeout=20)
    assert told("600000") == []  # one in the queue at ten answers an hour: no automated message

    for n in range(1, 16):
        send_tweet(stack, str(600_000 + n), f"@MeridianRail train {n} cancelled, awful", user_id=str(95_000 + n))
    assert stack.wait_for(lambda: waiting(stack, amira) == 16, timeout=30)

    def busy_acks() -> list[dict]:
        later = {str(600_000 + n) for n in range(1, 16)}
        return [m for m in stack.get("/local/outbox").json()["messages"] if m["in_reply_to"] in later]

    # each is processed as it arrives (several at once): the later ones find a long queue
    assert stack.wait_for(lambda: len(busy_acks()) >= 5, timeout=30), busy_acks()
    acks = busy_acks()
    assert all("about" in m["text"] and "status page" in m["text"] for m in acks)  # public X: no URL
    assert len({m["in_reply_to"] for m in acks}) == len(acks)  # one each, never two
    assert told("600000") == []
