"""The report's shape: CSV, JSON and the reading of a query (chalicelib/domain/reports.py)."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone

import pytest

from chalicelib.domain.reports import (
    Chart,
    Column,
    Report,
    ReportQuery,
    ReportQueryError,
    Table,
    parse_query,
    period_of,
    periods,
    report_json,
    to_csv,
)

TODAY = date(2026, 3, 10)
CHANNELS = ("x", "email", "form")
DESKS = ("support", "billing")


def table() -> Table:
    return Table(name="response", title="First response", columns=(
        Column("period", "Period"), Column("channel", "Channel"), Column("median", "Median first response", "min"),
        Column("share", "Within 1 h", "share")), rows=(
        {"period": "2026-03-09", "channel": "x", "median": 12.5, "share": 0.75},
        {"period": "2026-03-09", "channel": 'e-mail, "web"', "median": None, "share": 0}),
        chart=Chart("line", "period", ("median",), "min"), note="a note")


def test_csv_is_rfc_4180_with_units_in_the_header_and_empty_cells_for_no_value():
    text = to_csv(table())
    assert text.endswith("\r\n") and text.count("\r\n") == 3
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["Period", "Channel", "Median first response (min)", "Within 1 h (share)"]
    assert rows[1] == ["2026-03-09", "x", "12.5", "0.75"]
    assert rows[2] == ["2026-03-09", 'e-mail, "web"', "", "0"]
    assert '"e-mail, ""web"""' in text


def test_report_json_carries_the_query_filters_columns_rows_and_chart():
    q = ReportQuery(date(2026, 3, 1), date(2026, 3, 7), "day", "x", None)
    body = report_json(Report(q, "Europe/London", datetime(2026, 3, 8, tzinfo=timezone.utc), (table(),)))
    assert body["from"] == "2026-03-01" and body["to"] == "2026-03-07" and body["by"] == "day"
    assert body["timezone"] == "Europe/London" and body["filters"] == {"channel": "x", "desk": None}
    assert body["generated_at"] == "2026-03-08T00:00:00+00:00"
    (t,) = body["tables"]  # type: ignore[misc]
    assert t["name"] == "response" and t["note"] == "a note"
    assert t["columns"][2] == {"key": "median", "label": "Median first response", "unit": "min"}
    assert t["rows"][1] == {"period": "2026-03-09", "channel": 'e-mail, "web"', "median": None, "share": 0}
    assert t["chart"] == {"kind": "line", "x": "period", "series": ["median"], "unit": "min"}


def test_the_default_query_is_the_last_seven_days_by_day_for_everything():
    q = parse_query({}, today=TODAY, channels=CHANNELS, desks=DESKS)
    assert q == ReportQuery(date(2026, 3, 4), TODAY, "day", None, None)


def test_a_full_query_is_read():
    q = parse_query({"from": "2026-02-01", "to": "2026-02-28", "by": "week", "channel": "email", "desk": "billing"},
                    today=TODAY, channels=CHANNELS, desks=DESKS)
    assert q == ReportQuery(date(2026, 2, 1), date(2026, 2, 28), "week", "email", "billing")
    assert parse_query({"channel": "all", "desk": ""}, today=TODAY, channels=CHANNELS, desks=DESKS).channel is None


@pytest.mark.parametrize(("params", "field", "words"), [
    ({"from": "2026-3-1"}, "from", "YYYY-MM-DD"),
    ({"to": "yesterday"}, "to", "YYYY-MM-DD"),
    ({"from": "2026-03-05", "to": "2026-03-01"}, "to", "on or after"),
    ({"from": "2025-01-01", "to": "2026-01-01"}, "to", "at most 92 days"),
    ({"by": "month"}, "by", "day or week"),
    ({"channel": "fax"}, "channel", "one of email, form, x"),
    ({"desk": "nope"}, "desk", "one of billing, support"),
])
def test_a_bad_query_is_refused_with_a_sentence_naming_the_field(params, field, words):
    with pytest.raises(ReportQueryError) as caught:
        parse_query(params, today=TODAY, channels=CHANNELS, desks=DESKS)
    assert words in caught.value.message and field in caught.value.details


def test_ninety_two_days_is_the_longest_range():
    q = parse_query({"from": "2026-01-01", "to": "2026-04-02"}, today=TODAY, channels=CHANNELS, desks=DESKS)
    assert (q.end - q.start).days + 1 == 92


def test_weeks_start_on_monday_and_periods_cover_the_range():
    assert period_of(date(2026, 3, 8), "week") == date(2026, 3, 2)  # a Sunday
    q = ReportQuery(date(2026, 3, 1), date(2026, 3, 10), "week", None, None)
    assert periods(q) == [date(2026, 2, 23), date(2026, 3, 2), date(2026, 3, 9)]
    assert len(periods(ReportQuery(date(2026, 3, 1), date(2026, 3, 10), "day", None, None))) == 10
