"""The leads' Reports page in the web inbox (``/inbox/reports``) and its CSV downloads (``/inbox/reports.csv``).

The page reads the same query as ``GET /agent/reports`` (``from``, ``to``, ``by``, ``channel``, ``desk``) from a GET
form that works without JavaScript, and shows every table of the report (``chalicelib.domain.reports``) as an HTML
table: a caption, ``scope`` headers with the unit, figures written for people ("14 min", "43 %", "—" for none) and a
link to the table as CSV. Each table with a chart hint gets a chart above it, drawn by Chart.js (MIT, vendored under
``chalicelib/web/vendor/``) from the report's JSON embedded in the page (``<script type="application/json">``, data
only: the inbox's Content-Security-Policy allows scripts from the app's own files and nothing inline); the chart
names its table as its description (``aria-describedby``). The scripts are served from the package under
``/inbox/reports/assets/`` with a content hash in their URL and a year-long cache. Chart.js 4.6.2's UMD build is
212,619 bytes, about 72 KB deflated in the deployment package (ADR 0014's budget; ``vendor/README.md``).

Who may read a report (leads and comms), the query's rules and the figures stay in the use case it is handed.
"""
from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from chalicelib.domain.agent import Agent
from chalicelib.domain.channel_profiles import PROFILES
from chalicelib.services import Services
from chalicelib.usecases import errors
from chalicelib.web.inbox_page import CHANNELS, SECURITY_HEADERS, Page, Session, Web, sentence

if TYPE_CHECKING:
    from chalicelib.domain.reports import Column, Report, Table

HERE = Path(__file__).resolve().parent
#: The page's own scripts: the drawing script and the charting library it uses.
ASSETS: dict[str, Path] = {"reports.js": HERE / "reports.js", "chart.umd.min.js": HERE / "vendor" / "chart.umd.min.js"}
ASSET_CACHE = "public, max-age=31536000, immutable"
FILTERS = ("from", "to", "by", "channel", "desk")
#: A column's unit as its header says it.
UNIT_WORDS = {"min": "minutes", "h": "hours", "s": "seconds", "share": "%"}
MAX_PARAM = 40

#: The report the signed-in agent asked for, from the page's query parameters (``usecases.reports``).
ReportFor = Callable[[Services, Agent, Mapping[str, str]], "Report"]


@lru_cache(maxsize=len(ASSETS))
def asset(name: str) -> tuple[bytes, str]:
    """(content, version) of one of the page's scripts; the version (a content hash) is in the page's URL."""
    content = ASSETS[name].read_bytes()
    return content, hashlib.sha256(content).hexdigest()[:12]


def asset_page(name: str) -> Page:
    if name not in ASSETS:
        return 404, "Not found\n", {**SECURITY_HEADERS, "Content-Type": "text/plain; charset=utf-8"}
    return 200, asset(name)[0].decode("utf-8"), {**SECURITY_HEADERS, "Content-Type": "text/javascript; charset=utf-8",
                                                 "Cache-Control": ASSET_CACHE}


class ReportsWeb(Web):
    """One request to the Reports page or one of its CSV files."""

    def params(self) -> dict[str, str]:
        """The filters the request gives (each trimmed and cut short; the use case checks them)."""
        return {name: self.request.query[name].strip()[:MAX_PARAM] for name in FILTERS
                if self.request.query.get(name, "").strip()}

    def reports(self, call: ReportFor) -> Page:
        """GET /inbox/reports: the filter form and every table of the report, with its chart and CSV link; a query
        the use case refuses shows the form again with the reason (and the refusal's status)."""
        signed_in = self._agent_or_none()
        if signed_in is None:
            return self._to_sign_in()
        params = self.params()
        try:
            report = call(self.svc, signed_in.agent, params)
        except errors.Invalid as exc:
            return self._page(self.status_of(exc), signed_in, None, params,
                              {"kind": "error", "text": sentence(exc.message)})
        except errors.Refused as exc:
            return self._error(exc, signed_in)
        return self._page(200, signed_in, report, params, None)

    def reports_csv(self, call: ReportFor) -> Page:
        """GET /inbox/reports.csv?table=…: one table of the report as CSV (``to_csv``), to download."""
        from chalicelib.domain.reports import TABLES, to_csv

        signed_in = self._agent_or_none()
        if signed_in is None:
            return self._to_sign_in()
        name = self.request.query.get("table", "").strip()
        if name not in TABLES:
            return self._error(errors.Invalid(f"table must be one of {', '.join(TABLES)}"), signed_in)
        try:
            report = call(self.svc, signed_in.agent, self.params())
            table = report.table(name)
        except errors.Refused as exc:
            return self._error(exc, signed_in)
        except KeyError:
            return self._error(errors.NotFound(f"this report has no table {name}"), signed_in)
        q = report.query
        filename = f"responder-{name}-{q.start.isoformat()}-{q.end.isoformat()}.csv"
        return 200, to_csv(table), {**SECURITY_HEADERS, "Content-Type": "text/csv; charset=utf-8",
                                    "Content-Disposition": f'attachment; filename="{filename}"'}

    def _page(self, status: int, signed_in: Session, report: Report | None, params: Mapping[str, str],
              flash: Mapping[str, str] | None) -> Page:
        from chalicelib.domain.reports import report_json

        form = dict(params)
        tables: list[dict[str, object]] = []
        data = ""
        if report is not None:
            q = report.query
            form = {"from": q.start.isoformat(), "to": q.end.isoformat(), "by": q.by, "channel": q.channel or "",
                    "desk": q.desk or ""}
            filters = {k: v for k, v in form.items() if v}
            tables = [_table_view(t, filters, q.by) for t in report.tables]
            body = report_json(report)
            body["labels"] = {"channels": CHANNELS}
            # "</" cannot end the data element early: JSON allows "<\/"
            data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
        return self._html(status, "inbox_reports.html", signed_in,
                          report=report, tables=tables, data=data, form=form, flash=flash,
                          channels=[(c, CHANNELS.get(c, c)) for c in sorted(PROFILES)],
                          desks=list(self.svc.config.desk_ids),
                          script_versions={name: asset(name)[1] for name in ASSETS},
                          generated=_generated(report))


# ------------------------------------------------------------------------------------------------ formatting
def header(column: Column) -> str:
    """A column's header with its unit: "First response, median (minutes)"; counts and labels have none."""
    word = UNIT_WORDS.get(column.unit or "")
    return f"{column.label} ({word})" if word else column.label


def cell(column: Column, value: object) -> str:
    """A figure written for people: 14 min, 2 h 05 min, 1.5 h, 45 s, 43 %, 1,234; the empty string for none
    (the template shows "—" and says "none" to a screen reader)."""
    if value is None or value == "" or (isinstance(value, float) and value != value):
        return ""
    unit = column.unit
    if isinstance(value, bool) or not isinstance(value, int | float):
        return _label(column.key, str(value))
    if unit == "share":
        return f"{value * 100:.0f} %"
    if unit == "min":
        minutes = math.floor(value + 0.5)
        if minutes < 100:
            return f"{value:.1f} min" if 0 < value < 10 and value != minutes else f"{minutes} min"
        return f"{minutes // 60} h {minutes % 60:02d} min"
    if unit == "h":
        return f"{value:.1f} h"
    if unit == "s":
        seconds = math.floor(value + 0.5)
        return f"{seconds} s" if seconds < 120 else f"{seconds // 60} min {seconds % 60:02d} s"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"


def _label(key: str, text: str) -> str:
    """A label cell: a channel by the inbox's name for it, a date as a day of the week."""
    if key == "channel" or key.endswith("_channel"):
        return CHANNELS.get(text, text)
    if len(text) in (10, 16) and text[4] == "-" and text[7] == "-":
        try:
            day = date.fromisoformat(text[:10])
        except ValueError:
            return text
        return f"{day:%a} {day.day} {day:%b %Y}" + (f", {text[11:]}" if len(text) == 16 else "")
    return text


def _numeric(table: Table, column: Column) -> bool:
    """A column of figures (a unit, or numbers in it, like a ratio), as opposed to a label (period, channel, desk)."""
    values = [row.get(column.key) for row in table.rows]
    return column.unit is not None or any(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def _table_view(table: Table, filters: Mapping[str, str], by: str = "day") -> dict[str, object]:
    """What the template needs of one table: headers, formatted rows (the first label column as the row header),
    numeric columns right-aligned, the CSV link's query."""
    numeric = {c.key: _numeric(table, c) for c in table.columns}
    first_label = next((c.key for c in table.columns if not numeric[c.key]), None)
    columns = [{"key": c.key, "header": header(c), "numeric": numeric[c.key], "row_header": c.key == first_label}
               for c in table.columns]
    rows = [[{"text": _week(cell(c, row.get(c.key)), c.key, by), "numeric": numeric[c.key],
              "row_header": c.key == first_label} for c in table.columns] for row in table.rows]
    chart = None
    if table.chart is not None and table.rows:
        chart = {"kind": table.chart.kind, "summary": _chart_summary(table)}
    return {"name": table.name, "title": table.title, "note": table.note, "columns": columns, "rows": rows,
            "chart": chart, "csv_query": urlencode({"table": table.name, **filters})}


def _week(text: str, key: str, by: str) -> str:
    """A week's period (named by its Monday) as "Week of Mon 16 Nov 2026"."""
    return f"Week of {text}" if by == "week" and key == "period" and text else text


def _chart_summary(table: Table) -> str:
    """The chart's accessible name: what it draws, against what (its table, described by, has the figures)."""
    assert table.chart is not None
    names = {c.key: c.label for c in table.columns}
    series = ", ".join(names.get(s, s) for s in table.chart.series)
    kind = "Line chart" if table.chart.kind == "line" else "Bar chart"
    return f"{kind} of {series} by {names.get(table.chart.x, table.chart.x).lower()}"


def _generated(report: Report | None) -> str:
    if report is None:
        return ""
    from zoneinfo import ZoneInfo

    from chalicelib.usecases.status import format_moment

    try:
        return format_moment(report.generated_at, ZoneInfo(report.timezone))
    except (KeyError, ValueError):
        return report.generated_at.isoformat()
