"""Leads' reports: the shape of a report, its JSON and CSV forms, and the reading of a report's query.

A report is a tuple of named tables (``response``, ``parity``, ``acknowledgements``, ``volume``, ``backlog``,
``busy``, ``triage``, ``listening``; see ``TABLES``), each with typed columns, plain rows and, where a picture
helps, a chart hint (line or bar, which column is the x axis, which columns are the series). The same ``Report`` is
served as JSON (``report_json``), as one CSV per table (``to_csv``), drawn on the web inbox's Reports page and printed
by ``python -m tools.inbox report``. The figures themselves are built by ``chalicelib.usecases.reports.build_report``
from stored aggregates.

Dates in a query are inclusive local dates in the brand's time zone. The domain is pure, so ``parse_query``
raises ``ReportQueryError`` (a ``ValueError`` with a sentence and per-field details); the use case's
``chalicelib.usecases.reports.read_query`` turns it into the project's ``Invalid`` refusal (HTTP 422).
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

__all__ = ["Column", "Chart", "Table", "ReportQuery", "Report", "ReportQueryError", "TicketFigures", "TABLES",
           "MAX_DAYS", "DEFAULT_DAYS", "to_csv", "report_json", "parse_query", "periods", "period_of"]

#: The tables of every report, in the order they are shown (stable names: the page, CSV links and the CLI use them)
TABLES: tuple[str, ...] = ("response", "parity", "acknowledgements", "volume", "backlog", "busy", "triage",
                           "listening")
#: The longest range a report covers, in days (a quarter)
MAX_DAYS = 92
#: The range when none is asked for: the last 7 days up to today
DEFAULT_DAYS = 7
#: Units a column may carry
UNITS: tuple[str, ...] = ("min", "h", "s", "share", "count")

Cell = str | int | float | None


@dataclass(frozen=True)
class Column:
    """A column: ``key`` in each row, a label for people, and a unit (``min``, ``h``, ``s``, ``share`` 0..1,
    ``count``) or None for a label column."""

    key: str
    label: str
    unit: str | None = None


@dataclass(frozen=True)
class Chart:
    """How a table is best drawn: a line or bar chart of ``series`` (column keys) against ``x`` (a column key)."""

    kind: Literal["line", "bar"]
    x: str
    series: tuple[str, ...]
    unit: str | None = None


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[Mapping[str, Cell], ...]
    chart: Chart | None = None
    note: str | None = None


@dataclass(frozen=True)
class ReportQuery:
    """Inclusive local dates in the brand's time zone; ``by`` the period rows are grouped by; optional filters."""

    start: date
    end: date
    by: Literal["day", "week"]
    channel: str | None
    desk: str | None


@dataclass(frozen=True)
class Report:
    query: ReportQuery
    timezone: str
    generated_at: datetime
    tables: tuple[Table, ...]

    def table(self, name: str) -> Table:
        """The table called ``name``; KeyError when the report has none."""
        for t in self.tables:
            if t.name == name:
                return t
        raise KeyError(name)


class ReportQueryError(ValueError):
    """A report's query that cannot be answered: ``message`` says why, ``details`` names the field."""

    def __init__(self, message: str, details: Mapping[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.details = dict(details or {})


def _header(column: Column) -> str:
    return f"{column.label} ({column.unit})" if column.unit else column.label


def _csv_cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value == value else ""
    return str(value)


def to_csv(table: Table) -> str:
    """The table as RFC 4180 CSV: a header of the column labels (with their unit), one line per row, CRLF line
    ends; an empty cell for a figure that has no value (e.g. a median of no tickets)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([_header(c) for c in table.columns])
    for row in table.rows:
        writer.writerow([_csv_cell(row.get(c.key)) for c in table.columns])
    return out.getvalue()


def report_json(report: Report) -> dict[str, object]:
    """The report as a JSON object (see the module's docstring for the tables)."""
    q = report.query
    return {
        "from": q.start.isoformat(),
        "to": q.end.isoformat(),
        "by": q.by,
        "timezone": report.timezone,
        "generated_at": report.generated_at.isoformat(),
        "filters": {"channel": q.channel, "desk": q.desk},
        "tables": [{
            "name": t.name,
            "title": t.title,
            "columns": [{"key": c.key, "label": c.label, "unit": c.unit} for c in t.columns],
            "rows": [{c.key: row.get(c.key) for c in t.columns} for row in t.rows],
            "chart": None if t.chart is None else {"kind": t.chart.kind, "x": t.chart.x,
                                                   "series": list(t.chart.series), "unit": t.chart.unit},
            "note": t.note,
        } for t in report.tables],
    }


def _date(params: Mapping[str, str], name: str) -> date | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        if len(raw) != 10:
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise ReportQueryError(f"{name} must be a date written YYYY-MM-DD, like {date(2026, 3, 1).isoformat()}",
                               {name: "invalid"}) from None


def _choice(params: Mapping[str, str], name: str, choices: Iterable[str]) -> str | None:
    raw = (params.get(name) or "").strip()
    if not raw or raw == "all":
        return None
    known = sorted(set(choices))
    if raw not in known:
        raise ReportQueryError(f"{name} must be one of {', '.join(known)} (or left out for all)", {name: "unknown"})
    return raw


def parse_query(params: Mapping[str, str], *, today: date, channels: Iterable[str],
                desks: Iterable[str]) -> ReportQuery:
    """Read ``from``/``to`` (YYYY-MM-DD, inclusive; default the last 7 days up to ``today``), ``by`` (``day`` or
    ``week``; default ``day``), ``channel`` and ``desk`` (one of those known, or absent/``all`` for all).
    Raises ``ReportQueryError`` with a sentence: a bad date, ``to`` before ``from``, more than ``MAX_DAYS`` days,
    an unknown period, channel or desk."""
    end = _date(params, "to")
    start = _date(params, "from")
    if end is None:
        end = today if start is None else min(today, start + timedelta(days=DEFAULT_DAYS - 1))
        end = max(end, start) if start is not None else end
    if start is None:
        start = end - timedelta(days=DEFAULT_DAYS - 1)
    if end < start:
        raise ReportQueryError("to must be on or after from", {"to": "before from"})
    if (end - start).days + 1 > MAX_DAYS:
        raise ReportQueryError(f"a report covers at most {MAX_DAYS} days: narrow from and to", {"to": "too far"})
    by = (params.get("by") or "day").strip() or "day"
    if by not in ("day", "week"):
        raise ReportQueryError("by must be day or week", {"by": "unknown"})
    return ReportQuery(start=start, end=end, by="week" if by == "week" else "day",
                       channel=_choice(params, "channel", channels), desk=_choice(params, "desk", desks))


def period_of(day: date, by: Literal["day", "week"]) -> date:
    """The first day of the period ``day`` falls in: itself, or the Monday of its ISO week."""
    return day if by == "day" else day - timedelta(days=day.weekday())


def periods(query: ReportQuery) -> list[date]:
    """The periods of a query in order, each named by its first day (a week may start before ``query.start``)."""
    seen: list[date] = []
    day = query.start
    while day <= query.end:
        p = period_of(day, query.by)
        if not seen or seen[-1] != p:
            seen.append(p)
        day += timedelta(days=1)
    return seen


# ------------------------------------------------------------------------------------------------ per-ticket figures
@dataclass(frozen=True)
class TicketFigures:
    """What the reports need of one ticket, taken from the ticket itself each time it reaches a milestone (created,
    a customer's message, acknowledged, answered, resolved, reopened, labelled, transferred): a small row, rewritten
    whole, so every figure of a report is exact. Times are aware UTC datetimes; minutes "open" count only the minutes
    the desk was open (the rota of its covering teams). No customer data: the reference, channel and desk only."""

    ticket_id: str
    channel: str
    desk: str
    first_contact_at: datetime
    version: int = 0
    first_response_at: datetime | None = None
    first_response_open_min: float | None = None
    resolved_at: datetime | None = None  # the latest resolution, while the ticket is resolved
    resolution_open_min: float | None = None
    resolutions: tuple[datetime, ...] = ()  # every resolution
    reopens: tuple[datetime, ...] = ()  # every reopening (by the customer or an agent)
    due: datetime | None = None  # the first response's SLA due time
    #: The desk the ticket was first queued on was closed when the customer wrote
    wrote_while_closed: bool = False
    #: Triage's policy would not acknowledge the first message (praise, spam, …); None: a ticket from before it
    triage_said_no: bool | None = None
    #: What became of the acknowledgement (``Ticket.ack_state``): sent, waiting, expired, parked, queued; "" none
    ack_state: str = ""
    ack_at: datetime | None = None  # when the (first) acknowledgement went out
    busy_acked: bool = False  # a busy acknowledgement was sent
    #: The busy acknowledgement's range, in minutes (lower, upper), as told to the customer
    busy_estimate: tuple[int, int] | None = None
    #: Intervals during which the ticket waited for the desk (first contact, or a reopening, until answered or
    #: resolved); an open end: still waiting when the row was written
    waits: tuple[tuple[datetime, datetime | None], ...] = ()
    merged: bool = False  # merged into another ticket: counted there
    #: Opened by a post that did not tag the brand (listening) and not addressed to us since: counted apart from
    #: the customers who wrote to us (ADR 0032)
    listened: bool = False
    dismissed_at: datetime | None = None  # a listened ticket closed by an agent with no reply

    def to_json(self) -> dict[str, object]:
        def t(value: datetime | None) -> str | None:
            return value.isoformat() if value is not None else None

        return {"id": self.ticket_id, "ch": self.channel, "desk": self.desk, "fc": t(self.first_contact_at),
                "v": self.version, "fr": t(self.first_response_at), "fro": self.first_response_open_min,
                "rs": t(self.resolved_at), "rso": self.resolution_open_min,
                "rss": [t(x) for x in self.resolutions], "ros": [t(x) for x in self.reopens], "due": t(self.due),
                "closed": self.wrote_while_closed, "no": self.triage_said_no, "ack": self.ack_state,
                "ack_at": t(self.ack_at), "busy": self.busy_acked,
                "est": list(self.busy_estimate) if self.busy_estimate else None,
                "waits": [[t(a), t(b)] for a, b in self.waits], "merged": self.merged, "heard": self.listened,
                "dis": t(self.dismissed_at)}

    @classmethod
    def from_json(cls, raw: Mapping[str, object]) -> TicketFigures:
        def t(value: object) -> datetime | None:
            return datetime.fromisoformat(value) if isinstance(value, str) else None

        def f(value: object) -> float | None:
            return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

        def times(value: object) -> tuple[datetime, ...]:
            return tuple(x for x in (t(v) for v in value) if x is not None) if isinstance(value, list) else ()

        first = t(raw.get("fc"))
        if first is None:
            raise ValueError("a ticket's figures need its first contact")
        est = raw.get("est")
        waits_raw = raw.get("waits")
        waits: list[tuple[datetime, datetime | None]] = []
        for pair in waits_raw if isinstance(waits_raw, list) else []:
            start = t(pair[0]) if isinstance(pair, list) and pair else None
            if start is not None and isinstance(pair, list):
                waits.append((start, t(pair[1]) if len(pair) > 1 else None))
        no = raw.get("no")
        version = raw.get("v")
        return cls(ticket_id=str(raw.get("id") or ""), channel=str(raw.get("ch") or ""),
                   desk=str(raw.get("desk") or ""),
                   first_contact_at=first, version=int(version) if isinstance(version, int | float) else 0,
                   first_response_at=t(raw.get("fr")), first_response_open_min=f(raw.get("fro")),
                   resolved_at=t(raw.get("rs")), resolution_open_min=f(raw.get("rso")),
                   resolutions=times(raw.get("rss")), reopens=times(raw.get("ros")), due=t(raw.get("due")),
                   wrote_while_closed=raw.get("closed") is True, triage_said_no=no if isinstance(no, bool) else None,
                   ack_state=str(raw.get("ack") or ""), ack_at=t(raw.get("ack_at")), busy_acked=raw.get("busy") is True,
                   busy_estimate=(int(est[0]), int(est[1])) if isinstance(est, list) and len(est) == 2 else None,
                   waits=tuple(waits), merged=raw.get("merged") is True, listened=raw.get("heard") is True,
                   dismissed_at=t(raw.get("dis")))
