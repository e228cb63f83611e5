"""``python -m tools.inbox report`` in a subprocess against the real local stack: a lead prints the report and one
table as CSV, an agent of another team is refused, a bad date is explained."""
from __future__ import annotations

import csv
import io

import pytest

from tests.e2e.test_inbox_cli import inbox, tweet_and_wait


@pytest.fixture(scope="module")
def stack(wednesday_stack):
    return wednesday_stack


def test_a_lead_prints_the_report_and_a_table_as_csv(stack, tmp_path):
    opened = tweet_and_wait(stack, "710001", "@ExampleRail my train was cancelled and nobody told us, I want a refund",
                            user_id="7101")
    amira = tmp_path / "amira"
    assert inbox(stack, "login", "-u", "amira", tokens=amira, RESPONDER_PASSWORD="Amira-local-1").returncode == 0
    assert inbox(stack, "claim", opened, tokens=amira).returncode == 0
    answered = inbox(stack, "reply", opened, "Sorry about that: the refund is on its way.", "--resolve", tokens=amira)
    assert answered.returncode == 0, answered.stderr
    refused = inbox(stack, "report", tokens=amira)
    assert refused.returncode == 1 and "the reports are for leads and the comms team" in refused.stderr

    chloe = tmp_path / "chloe"
    assert inbox(stack, "login", "-u", "chloe", tokens=chloe, RESPONDER_PASSWORD="Chloe-local-1").returncode == 0
    shown = inbox(stack, "report", "--from", "2026-11-25", "--to", "2026-11-25", tokens=chloe)
    assert shown.returncode == 0, shown.stderr
    for expected in ("Report 2026-11-25 to 2026-11-25 by day (Europe/London; every channel and desk)",
                     "First response and resolution", "Channel parity", "Acknowledgements out of hours",
                     "Tickets created, resolved and reopened", "Backlog at each hour", "complaints"):
        assert expected in shown.stdout, (expected, shown.stdout)
    exported = inbox(stack, "report", "--from", "2026-11-25", "--to", "2026-11-25", "--csv", "volume", tokens=chloe)
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.reader(io.StringIO(exported.stdout)))
    assert rows[0] == ["Period", "Desk", "Created (count)", "Resolved (count)", "Reopened (count)"]
    complaints = next(r for r in rows[1:] if r[1] == "complaints")
    assert int(complaints[2]) >= 1 and int(complaints[3]) >= 1
    bad = inbox(stack, "report", "--from", "25/11/2026", tokens=chloe)
    assert bad.returncode == 1 and "from must be a date written YYYY-MM-DD" in bad.stderr
    unknown = inbox(stack, "report", "--csv", "nope", tokens=chloe)
    assert unknown.returncode == 1 and "table must be one of response" in unknown.stderr
