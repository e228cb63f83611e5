"""Searching the words customers wrote through the real faces on moto: a real tweet of the twcs sample replayed
through the webhook route and the inbound handler, then found by its words through the JSON API
(``/agent/search``), the web inbox (``/inbox/search``) and the terminal inbox (``python -m tools.inbox search``,
its HTTP answered by the same routes). The search's use case on the in-memory twins: tests/unit/test_word_search."""
from __future__ import annotations

import io
import re
from urllib.parse import urlsplit

import pytest
import responses
from rich.console import Console
from typer.testing import CliRunner

from bench.run import counting_aws_calls
from tests.conftest import drain
from tests.helpers import ticket_of
from tests.integration.test_agent_api import sign_in
from tests.integration.test_web_inbox import Browser
from tools.replay import DEFAULT_CSV, LOCAL_BRAND_ID, LOCAL_SECRET, read_rows, signed, webhook_payload

pytestmark = pytest.mark.skipif(not DEFAULT_CSV.exists(),
                                reason="../shared/data/twcs_sample.csv is not beside the project")
#: A customer's tweet of the sample: "… where is it??I’m unhappy.refund the delivery charge"
TWEET = "664"


@pytest.fixture
def replayed(client, svc, clock):
    """The sample's tweet, through the webhook and the inbound handler at its own time; its ticket's id."""
    row = next(r for r in read_rows() if r.tweet_id == TWEET)
    clock.set(row.created_at)
    body, headers = signed(webhook_payload(row, brand_id=LOCAL_BRAND_ID), LOCAL_SECRET)
    assert client.http.post("/webhooks/x", body=body, headers=headers).status_code == 200
    calls: list = []
    with counting_aws_calls(record=calls):
        drain("process_inbound", "responder-inbound")
    writes = [p for _, op, p in calls if op == "BatchWriteItem"]
    assert len(writes) == 1  # the message's words and the ticket's list of them: one call
    return ticket_of(svc, f"x#{TWEET}")


def test_the_json_api_finds_the_ticket_by_the_words_its_customer_wrote(client, replayed):
    headers = sign_in(client, "chloe", "Chloe-local-1")
    calls: list = []
    with counting_aws_calls(record=calls):
        found = client.http.get("/agent/search?q=refund%20DELIVERY", headers=headers)
    assert found.status_code == 200, found.body
    answer = found.json_body
    assert answer["matched"] == "words" and answer["words"] == ["delivery", "refund"] and answer["partial"] is False
    assert [(m["ticket_id"], m["matched"], m["of"]) for m in answer["matches"]] == [(replayed, 2, 2)]
    # one query per word of the index, one read of the ticket, and the handle-like reading of the query: no scan
    operations = [op for _, op, _ in calls]
    assert operations.count("Query") == 2 and "Scan" not in operations
    nothing = client.http.get("/agent/search?q=volcano%20eruption", headers=headers).json_body
    assert nothing["matches"] == [] and nothing["message"] == "No customer wrote eruption and volcano."


def test_the_web_inbox_search_box_lists_the_ticket(client, replayed):
    chloe = Browser(client)
    assert chloe.sign_in("chloe", "Chloe-local-1").status_code == 303
    chloe.get("/inbox/search?q=unhappy+refund")
    assert chloe.last.status_code == 200
    assert f'href="/inbox/tickets/{replayed}"' in chloe.text and "2 of 2" in chloe.text
    assert "Tickets whose customers wrote unhappy, refund" in chloe.text


def test_the_terminal_inbox_search_prints_the_ticket(client, replayed, monkeypatch):
    from tools import inbox as terminal

    headers = sign_in(client, "chloe", "Chloe-local-1")
    monkeypatch.setenv("RESPONDER_URL", "http://responder.test")
    monkeypatch.setenv("RESPONDER_TOKEN", headers["Authorization"].split()[1])
    screen = Console(record=True, width=140, color_system=None, file=io.StringIO())
    monkeypatch.setattr(terminal, "console", screen)

    def answer(request):  # the request as the terminal sent it, answered by the real route
        url = urlsplit(request.url)
        got = client.http.get(f"{url.path}?{url.query}", headers=dict(request.headers))
        return got.status_code, {"Content-Type": "application/json"}, got.body

    with responses.RequestsMock() as http:
        http.add_callback(responses.GET, re.compile(r"http://responder\.test/agent/search.*"), callback=answer)
        run = CliRunner().invoke(terminal.app, ["search", "delivery charge"])
    assert run.exit_code == 0, run.output
    shown = screen.export_text()
    assert "Tickets whose customers wrote delivery, charge" in shown
    assert re.search(rf"{replayed}\W+2 of 2\W+waiting", shown), shown
