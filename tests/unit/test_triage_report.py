"""The triage report (``make triage-report``) on files other than the shipped set: an inbox download of labels is
measured as it is; an empty, unreadable or malformed file gets one line saying what is wrong, and exit status 1."""
from __future__ import annotations

import csv
import re

import pytest

from bench.triage_accuracy import main

COLUMNS = ["tweet_id", "author_id", "created_at", "text", "reply", "intent", "urgent", "channel", "triaged",
           "triage_acknowledged", "agent", "labelled_at", "ticket_id"]


def write(path, rows, columns=COLUMNS):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def row(tweet_id: str, text: str, intent: str, channel: str = "x") -> dict:
    return {"tweet_id": tweet_id, "author_id": "C1", "created_at": "2026-12-01T09:00:00+00:00", "text": text,
            "reply": "no", "intent": intent, "urgent": "no", "channel": channel, "triaged": intent,
            "triage_acknowledged": "yes", "agent": "amira", "labelled_at": "2026-12-01T10:00:00+00:00",
            "ticket_id": "RAAAAAAAA"}


def test_an_inbox_download_is_measured_whole(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("bench.triage_accuracy.cold_start", lambda: {
        "importtime_ms": 0.0, "import_ms": 0.0, "lexicon_ms": 0.0, "first_triage_ms": 0.0, "second_triage_ms": 0.0})
    path = write(tmp_path / "labels.csv", [
        row("1", "@ExampleRail my train was cancelled again, I want a refund", "complaint"),
        row("2", "Is the 18:04 to Leeds running tonight?", "question", channel="email"),
        row("3", "luv the new quiet coach, fabulous!", "praise")])
    assert main(["--labelled", str(path), "--part", "all"]) == 0
    out = capsys.readouterr().out
    assert "== whole set: 3 labelled inbound tweets ==" in out
    assert re.search(r"complaints acknowledged\s+100\.0%\s+\(1 of 1\)", out)
    assert re.search(r"questions acknowledged\s+100\.0%\s+\(1 of 1\)", out)
    assert re.search(r"praise acked\s+100\.0%\s+\(1 of 1\)", out)  # with the thank-you
    assert re.search(r"complaints given the thank-you\s+0\.0%", out)
    assert re.search(r"^  praise\s+0\.0%\s+0\.0%\s+0\.0%\s+0\.0%\s+100\.0%\s+\(1\)$", out, re.MULTILINE)


@pytest.mark.parametrize(("content", "why"), [
    ("tweet_id,text,intent,urgent\n", "no labelled row"),
    ("a,b\n1,2\n", "no column tweet_id, text, intent, urgent"),
    ("tweet_id,text,intent,urgent\n7,hello,angry,no\n", "line 2: intent must be one of complaint"),
    ("tweet_id,text,intent,urgent\n7,hello,praise,maybe\n", "urgent yes or no, not 'praise' and 'maybe'"),
    (b"tweet_id,text,intent,urgent\n7,\xff\xfe,praise,no\n", "cannot be read as a UTF-8 CSV file"),
])
def test_a_file_the_report_cannot_use_is_refused_in_one_line(tmp_path, capsys, content, why):
    path = tmp_path / "labels.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    assert main(["--labelled", str(path), "--part", "all"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"triage report: {path}") and why in err and "Traceback" not in err


def test_a_missing_file_is_refused_in_one_line(tmp_path, capsys):
    assert main(["--labelled", str(tmp_path / "nowhere.csv")]) == 1
    assert "nowhere.csv: cannot be read as a UTF-8 CSV file" in capsys.readouterr().err
