"""WhatsApp read receipts on the real local stack (`make run`), on a Wednesday morning: a signed Cloud API delivery
makes a ticket, an agent signed in against the local Cognito pool takes it and opens it again, and the sandbox
outbox (`GET /local/outbox`) records exactly one message of kind ``read`` for the customer's message, and no reply."""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime

JSON = {"Content-Type": "application/json"}
WA_ID = "447700900789"


def signed_delivery(stack, wamid: str, text: str) -> tuple[bytes, dict]:
    now = int(datetime.fromisoformat(stack.get("/health").json()["time"]).timestamp())
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "5000000001", "changes": [{
        "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550000000", "phone_number_id": "4000000001"},
            "contacts": [{"profile": {"name": "Robin Vale"}, "wa_id": WA_ID}],
            "messages": [{"from": WA_ID, "id": wamid, "timestamp": str(now), "type": "text",
                          "text": {"body": text}}]}}]}]}).encode()
    signature = "sha256=" + hmac.new(b"local-meta-app-secret", body, hashlib.sha256).hexdigest()
    return body, {**JSON, "X-Hub-Signature-256": signature}


def outbox(stack) -> list[dict]:
    return stack.get("/local/outbox").json()["messages"]


def test_an_agent_opening_a_whatsapp_ticket_marks_the_message_read_once(wednesday_stack):
    stack = wednesday_stack
    body, headers = signed_delivery(stack, "wamid.E2EREAD1", "My e-ticket shows the wrong date, can you fix it?")
    assert stack.post("/webhooks/meta", data=body, headers=headers).status_code == 200
    signed = stack.post("/agent/sign-in", json={"username": "amira", "password": "Amira-local-1"}, headers=JSON)
    assert signed.status_code == 200, signed.text
    agent = {"Authorization": f"Bearer {signed.json()['token']}", **JSON}

    def whatsapp_ticket() -> dict | None:
        taken = stack.post("/agent/next", json={}, headers=agent).json().get("ticket")
        return taken if taken and taken["channel"] == "whatsapp" else None

    ticket = stack.wait_for(whatsapp_ticket, timeout=20)
    assert ticket, stack.output()[-3000:]
    for _ in range(2):
        assert stack.get(f"/agent/tickets/{ticket['ticket_id']}", headers=agent).status_code == 200

    read = stack.wait_for(lambda: [m for m in outbox(stack) if m["kind"] == "read"], timeout=20)
    assert [(m["channel"], m["in_reply_to"]) for m in read] == [("whatsapp", "wamid.E2EREAD1")], outbox(stack)
    shown = stack.get(f"/agent/tickets/{ticket['ticket_id']}", headers=agent).json()
    assert shown["sla"]["first_response_at"] is None
    assert "sent" not in [entry["kind"] for entry in shown["timeline"]]
    assert len([m for m in outbox(stack) if m["kind"] == "read"]) == 1
