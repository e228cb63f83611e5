"""The leads' Reports page (``/inbox/reports``) and its CSV files (``/inbox/reports.csv``).

Through the real Chalice app on moto: who sees the page (leads and comms; other agents get 403 and no link), the
filter form without JavaScript, each table as an accessible table with units and figures for people, the report's
JSON in the page for the charts, the CSV files, the charting scripts served from the package with a long cache, and
the inbox's Content-Security-Policy kept. The figures come from tickets put through the real processing path and
answered through the agents' API.

Then in a real headless Chromium driven by Playwright, on the real local stack (``make run``): Chloe (a lead) opens
Reports from the inbox's navigation, sees the tables and the charts drawn, switches the channel filter, and
downloads a table as CSV whose header and rows are the table on the page. Screenshots: artifacts/reports.png and
artifacts/reports-filtered.png (desktop), artifacts/reports-phone.png.
"""
from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import re
import time
from datetime import date, datetime, timezone

import pytest

from chalicelib.domain.reports import TABLES, Chart, Column, Report, ReportQuery, Table, report_json, to_csv
from tests.conftest import run_pipeline
from tests.e2e.conftest import PROJECT
from tests.integration.test_agent_api import sign_in as api_sign_in
from tests.integration.test_web_inbox import CSP, WEDNESDAY, Browser, post_tweet

ARTIFACTS = PROJECT / "artifacts"
LEAD = ("chloe", "Chloe-local-1")  # README: the local stack's lead
COMMS = ("priya", "Priya-local-1")
AGENT = ("amira", "Amira-local-1")


# ------------------------------------------------------------------------------------------------ the routes
@pytest.fixture
def answered(svc, clock, client):
    """Wednesday morning: four customers tweet, Amira answers two of them through the agents' API."""
    clock.set(WEDNESDAY)
    for n in range(4):
        post_tweet(client, f"91{n:02d}", f"@MeridianRail train {n} cancelled, I want a refund", user_id=f"91{n:02d}",
                   handle=f"rider{n}")
    run_pipeline()
    headers = api_sign_in(client, *AGENT)
    for minutes in (14, 40):
        clock.set(WEDNESDAY.replace(minute=minutes))
        taken = client.http.post("/agent/next", body="{}", headers=headers).json_body["ticket"]
        assert taken, "a ticket was waiting"
        reply = client.http.post(f"/agent/tickets/{taken['ticket_id']}/reply",
                                 body=json.dumps({"text": "Sorry about that: a refund is on its way."}),
                                 headers=headers)
        assert reply.status_code == 200, reply.body
    run_pipeline()
    return svc


def signed_in(client, who: tuple[str, str]) -> Browser:
    browser = Browser(client)
    assert browser.sign_in(*who).status_code == 303
    return browser


def embedded(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S)
    assert found, "the report's JSON is in the page"
    return json.loads(found.group(1))


def cells(page: str, name: str) -> list[list[str]]:
    """The text of each body row of the table ``table-<name>`` (header cell first), as a person reads it."""
    table = re.search(rf'<table id="table-{name}".*?</table>', page, re.S)
    assert table, name
    body = table.group(0).split("<tbody>", 1)[1]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        texts = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        rows.append([html.unescape(re.sub(r'<span aria-hidden="true">—</span><span class="visually-hidden">none'
                                          r"</span>", "—", t)).strip() for t in texts])
    return rows


def test_a_lead_sees_every_table_with_units_figures_for_people_and_the_charts_data(answered, client):
    chloe = signed_in(client, LEAD)
    home = chloe.get("/inbox")
    assert '<a href="/inbox/reports">Reports</a>' in home.body.decode()

    page = chloe.get("/inbox/reports")
    assert page.status_code == 200
    text = page.body.decode()
    assert page.headers["Content-Security-Policy"] == CSP  # the inbox's policy: no inline script runs
    # the filter form works without JavaScript: a GET form with the report's own query filled in
    assert '<form method="get" action="/inbox/reports"' in text
    assert 'name="from" value="2026-11-19"' in text and 'name="to" value="2026-11-25"' in text
    for name in TABLES:
        assert f'<h2 id="heading-{name}">' in text
        assert f'href="/inbox/reports.csv?table={name}&amp;from=2026-11-19&amp;to=2026-11-25&amp;by=day"' in text

    # the response table: caption, scope headers with units, "— " for no figure, minutes and shares for people
    assert '<caption id="caption-response" class="visually-hidden">First response and resolution' in text
    assert '<th scope="col" class="num">First response, median (minutes)</th>' in text
    assert '<th scope="col" class="num">Answered within 1 hour (%)</th>' in text
    rows = cells(text, "response")
    assert rows == [["Wed 25 Nov 2026", "X", "complaints", "4", "2", "27 min", "40 min", "27 min", "40 min", "—",
                     "—", "—", "100 %", "100 %"]], rows  # the others are not an hour old yet
    assert '<th scope="row">Wed 25 Nov 2026</th>' in text

    # the charts: drawn from the same report as JSON, the canvas described by its table
    data = embedded(text)
    report = report_json(_report(client))
    data.pop("labels")
    assert {k: v for k, v in data.items() if k != "generated_at"} == \
        {k: v for k, v in report.items() if k != "generated_at"}
    assert 'aria-describedby="table-response"' in text and 'role="img"' in text
    scripts = re.findall(r'<script src="(/inbox/reports/assets/[^"]+)" defer></script>', text)
    assert [s.split("?")[0].rsplit("/", 1)[1] for s in scripts] == ["chart.umd.min.js", "reports.js"]


def _report(client) -> Report:
    """The same report through the agents' JSON API, rebuilt (its figures are what the page must show)."""
    headers = api_sign_in(client, *LEAD)
    answer = client.http.get("/agent/reports", headers=headers)
    assert answer.status_code == 200, answer.body
    body = answer.json_body
    q = ReportQuery(date.fromisoformat(body["from"]), date.fromisoformat(body["to"]), body["by"],
                    body["filters"]["channel"], body["filters"]["desk"])
    tables = tuple(Table(t["name"], t["title"], tuple(Column(**c) for c in t["columns"]), tuple(t["rows"]),
                         None if t["chart"] is None else Chart(t["chart"]["kind"], t["chart"]["x"],
                                                               tuple(t["chart"]["series"]), t["chart"]["unit"]),
                         t["note"]) for t in body["tables"])
    return Report(q, body["timezone"], datetime.fromisoformat(body["generated_at"]), tables)


def test_the_channel_filter_and_the_csv_file_of_a_table(answered, client):
    chloe = signed_in(client, LEAD)
    on_x = chloe.get("/inbox/reports?from=2026-11-25&to=2026-11-25&channel=x&by=week").body.decode()
    assert '<option value="x" selected>X</option>' in on_x and '<option value="week" selected>' in on_x
    assert cells(on_x, "response")[0][0] == "Week of Mon 23 Nov 2026"
    on_email = chloe.get("/inbox/reports?from=2026-11-25&to=2026-11-25&channel=email").body.decode()
    assert 'id="table-response"' not in on_email and "No figures for these dates and filters." in on_email

    download = chloe.get("/inbox/reports.csv?table=response&from=2026-11-25&to=2026-11-25&channel=x")
    assert download.status_code == 200
    assert download.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert download.headers["Content-Disposition"] == \
        'attachment; filename="responder-response-2026-11-25-2026-11-25.csv"'
    rows = list(csv.reader(io.StringIO(download.body.decode())))
    assert rows[0][:6] == ["Period", "Channel", "Desk", "Tickets (count)", "Answered (count)",
                           "First response, median (min)"]
    assert rows[1][:7] == ["2026-11-25", "x", "complaints", "4", "2", "27", "40"]
    assert download.body.decode().endswith("\r\n") and len(rows) == 2

    unknown = chloe.get("/inbox/reports.csv?table=nothing")
    assert unknown.status_code == 422 and "Table must be one of response, parity," in unknown.body.decode()
    assert chloe.get("/inbox/reports.csv?table=response&by=month").status_code == 422
    refused = chloe.get("/inbox/reports?from=2026-11-30&to=2026-11-01")
    assert refused.status_code == 422
    assert "To must be on or after from." in refused.body.decode()
    assert '<form method="get" action="/inbox/reports"' in refused.body.decode()


def test_only_leads_and_comms_see_reports(answered, client):
    priya = signed_in(client, COMMS)
    assert priya.get("/inbox/reports").status_code == 200
    assert priya.get("/inbox/reports.csv?table=volume").status_code == 200

    amira = signed_in(client, AGENT)
    assert "/inbox/reports" not in amira.get("/inbox").body.decode()
    assert amira.get("/inbox/reports").status_code == 403
    assert amira.get("/inbox/reports.csv?table=volume").status_code == 403

    stranger = Browser(client)
    for path in ("/inbox/reports", "/inbox/reports.csv?table=volume"):
        answer = stranger.get(path)
        assert answer.status_code == 303 and answer.headers["Location"] == "/inbox/sign-in?why=required"


def test_the_charting_scripts_are_served_from_the_package_with_a_long_cache(client):
    for name, start in (("chart.umd.min.js", "/*!\n * Chart.js v4."), ("reports.js", "/* The Reports page")):
        answer = client.http.get(f"/inbox/reports/assets/{name}")
        assert answer.status_code == 200
        assert answer.body.decode().startswith(start)
        assert answer.headers["Content-Type"] == "text/javascript; charset=utf-8"
        assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert client.http.get("/inbox/reports/assets/axe.min.js").status_code == 404
    vendor = PROJECT / "chalicelib" / "web" / "vendor"
    assert (vendor / "chart.js-LICENSE.md").read_text(encoding="utf-8").startswith("The MIT License (MIT)")
    # the file is the one the vendor note names (version, source, hash)
    digest = hashlib.sha256((vendor / "chart.umd.min.js").read_bytes()).hexdigest()
    assert f"`{digest}`" in (vendor / "README.md").read_text(encoding="utf-8")


def test_figures_are_written_for_people(svc, clock, client, monkeypatch):
    """A report built by hand: minutes, hours, seconds, shares, counts and none, as the page writes them."""
    import chalicelib.usecases.reports as reports

    clock.set(WEDNESDAY)
    table = Table("response", "Response", (
        Column("period", "Period"), Column("channel", "Channel"), Column("tickets", "Tickets", "count"),
        Column("median", "Median", "min"), Column("slow", "Slowest", "min"), Column("resolution", "Resolution", "h"),
        Column("ack", "Acknowledged after", "s"), Column("hour", "Within 1 h", "share"), Column("ratio", "Ratio")),
        ({"period": "2026-11-25", "channel": "email", "tickets": 1234, "median": 14.2, "slow": 185, "resolution": 26.25,
          "ack": 75, "hour": 0.4321, "ratio": 2.5},
         {"period": "2026-11-25", "channel": "x", "tickets": 0, "median": None, "slow": None, "resolution": None,
          "ack": None, "hour": None, "ratio": None}),
        Chart("line", "period", ("median",), "min"))
    made = Report(ReportQuery(date(2026, 11, 25), date(2026, 11, 25), "day", None, None), "Europe/London",
                  datetime(2026, 11, 25, 10, tzinfo=timezone.utc), (table,))
    monkeypatch.setattr(reports, "report_for", lambda svc, agent, params: made)
    chloe = signed_in(client, LEAD)
    page = chloe.get("/inbox/reports").body.decode()
    assert cells(page, "response") == [
        ["Wed 25 Nov 2026", "e-mail", "1,234", "14 min", "3 h 05 min", "26.2 h", "75 s", "43 %", "2.50"],
        ["Wed 25 Nov 2026", "X", "0", "—", "—", "—", "—", "—", "—"]]
    assert '<th scope="col" class="num">Ratio</th>' in page  # a figure without a unit is still a figure
    download = chloe.get("/inbox/reports.csv?table=response")
    assert download.body.decode() == to_csv(table)


# ------------------------------------------------------------------------------------------------ the browser
def _seed(stack) -> None:
    """Through the real processing path, over two days on the stack's clock: tweets and Facebook comments, answered
    by Amira through the agents' API after a few minutes, or hours, or not yet."""
    from tests.e2e.test_agents import sign_in as stack_sign_in
    from tests.e2e.test_local_stack import send_tweet
    from tests.e2e.test_one_customer import fb_comment

    def arrive(day: int, tweets: int, comments: int) -> None:
        for n in range(tweets):
            send_tweet(stack, f"64{day}{n:03d}", f"@MeridianRail the 07:{n}0 was cancelled, refund please",
                       user_id=f"64{day}{n}", handle=f"commuter{day}{n}")
        for n in range(comments):
            fb_comment(stack, f"77{day}{n}", f"3300{day}{n}", f"Sam {n}", "My booking never arrived, can you help?")

    def answer(after_minutes: int, count: int) -> None:
        if after_minutes:
            assert stack.post("/local/clock", json={"minutes": after_minutes}).status_code == 200
        amira = stack_sign_in(stack, *AGENT)
        for _ in range(count):
            taken = stack.post("/agent/next", json={}, headers=amira).json()["ticket"]
            assert taken, "a ticket was waiting"
            reply = stack.post(f"/agent/tickets/{taken['ticket_id']}/reply", json={"text": "Sorry: we are on it."},
                               headers=amira)
            assert reply.status_code == 200, reply.text

    def waiting() -> int:
        amira = stack_sign_in(stack, *AGENT)
        return sum(d["depth"] for d in stack.get("/agent/me", headers=amira).json()["desks"])

    arrive(1, tweets=4, comments=2)  # Wednesday 10:00
    assert stack.wait_for(lambda: waiting() == 6, timeout=30), waiting()
    answer(4, 1)
    answer(25, 1)
    answer(95, 2)
    now = datetime.fromisoformat(stack.get("/health").json()["time"])
    thursday = datetime(2026, 11, 26, 9, 50, tzinfo=timezone.utc)
    answer(int((thursday - now).total_seconds() // 60), 0)  # Thursday morning
    arrive(2, tweets=3, comments=1)
    assert stack.wait_for(lambda: waiting() == 6, timeout=30), waiting()
    answer(12, 3)
    answer(40, 1)


def _table_on_page(page, name: str) -> tuple[list[str], list[list[str]]]:
    table = page.locator(f"#table-{name}")
    headers = [h.strip() for h in table.locator("thead th").all_text_contents()]
    rows = [[re.sub(r"\s+", " ", c.replace("none", "")).strip() for c in row.locator("th, td").all_text_contents()]
            for row in table.locator("tbody tr").all()]
    return headers, rows


def _as_shown(header: str, value: str) -> str:
    """A CSV cell as the page shows it (the CSV header says the unit: "Label (min)")."""
    from chalicelib.web.reports_page import cell

    found = re.fullmatch(r"(.*) \((min|h|s|share|count)\)", header)
    label, unit = (found.group(1), found.group(2)) if found else (header, None)
    if value == "":
        return "—"
    key = {"Channel": "channel"}.get(label, label)
    shown = cell(Column(key, label, unit), float(value) if unit else value)
    return shown


def test_a_lead_opens_reports_sees_charts_filters_by_channel_and_downloads_a_csv(wednesday_stack, chromium):
    from playwright.sync_api import expect, sync_playwright

    from tests.e2e.conftest import sign_in
    from tools.browser import HEADLESS_FLAGS

    stack = wednesday_stack
    ARTIFACTS.mkdir(exist_ok=True)
    _seed(stack)
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=list(HEADLESS_FLAGS))
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
            page = context.new_page()
            page.set_default_timeout(15_000)
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)  # CSP reports here
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("response", lambda r: problems.append(f"{r.url} {r.status}") if r.status >= 400 else None)
            sign_in(page, stack.base, *LEAD)
            page.get_by_role("navigation", name="Account").get_by_role("link", name="Reports").click()
            expect(page).to_have_url(stack.base + "/inbox/reports")
            expect(page.get_by_role("heading", level=1)).to_have_text("Reports")

            # the response table shows both channels; the charts are drawn (pixels on each canvas)
            _, rows = _table_on_page(page, "response")
            assert {r[1] for r in rows} == {"Facebook", "X"} and len(rows) == 4, rows
            deadline = time.monotonic() + 10
            painted = []
            while time.monotonic() < deadline:
                painted = page.eval_on_selector_all("figure.chart canvas", """canvases => canvases.map(c => {
                    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                    let n = 0; for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) n++; }
                    return {table: c.closest('figure').dataset.table, width: c.width, painted: n}; })""")
                if painted and all(p["painted"] > 500 for p in painted):
                    break
                time.sleep(0.2)
            drawn = {p["table"] for p in painted if p["painted"] > 500 and p["width"] > 200}
            assert {"response", "parity", "volume", "backlog"} <= drawn, painted
            chart = page.locator('figure.chart[data-table="response"] canvas')
            expect(chart).to_have_attribute("aria-describedby", "table-response")
            expect(chart).to_have_attribute("role", "img")
            page.screenshot(path=str(ARTIFACTS / "reports.png"), full_page=True)

            # a filter, with a click: X only
            page.get_by_label("Channel", exact=True).select_option(label="X")
            page.get_by_role("button", name="Show").click()
            expect(page).to_have_url(re.compile(r"/inbox/reports\?.*channel=x"))
            expect(page.get_by_label("Channel", exact=True)).to_have_value("x")
            headers, rows = _table_on_page(page, "response")
            assert rows and {r[1] for r in rows} == {"X"}, rows
            assert sum(int(r[3]) for r in rows) == 7
            page.screenshot(path=str(ARTIFACTS / "reports-filtered.png"), full_page=True)

            # the CSV of the table on the page: the same header (with units) and the same rows
            section = page.locator("#report-response")
            with page.expect_download() as fetched:
                section.get_by_role("link", name=re.compile(r"^Download CSV")).click()
            download = fetched.value
            assert re.fullmatch(r"responder-response-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.csv",
                                download.suggested_filename), download.suggested_filename
            saved = ARTIFACTS / download.suggested_filename
            download.save_as(str(saved))
            written = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8"))))
            assert [re.sub(r" \((min|h|s|share|count)\)$", "", h) for h in written[0]] == \
                [re.sub(r" \((minutes|hours|seconds|%)\)$", "", h) for h in headers]
            assert [[_as_shown(h, v) for h, v in zip(written[0], row, strict=True)] for row in written[1:]] == rows

            phone = browser.new_context(viewport={"width": 390, "height": 844})
            small = phone.new_page()
            sign_in(small, stack.base, *LEAD)
            small.goto(stack.base + "/inbox/reports")
            small.wait_for_load_state("networkidle")
            assert small.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
            small.screenshot(path=str(ARTIFACTS / "reports-phone.png"), full_page=True)
            phone.close()

            # without JavaScript: the tables and the filter form, no empty chart frames
            plain = browser.new_context(viewport={"width": 1280, "height": 900}, java_script_enabled=False)
            bare = plain.new_page()
            sign_in(bare, stack.base, *LEAD)
            bare.goto(stack.base + "/inbox/reports?channel=x")
            expect(bare.locator("#table-response")).to_be_visible()
            assert bare.locator("figure.chart").count() >= 4 and bare.locator("figure.chart:visible").count() == 0
            expect(bare.get_by_label("Channel", exact=True)).to_have_value("x")
            plain.close()
        finally:
            browser.close()
    assert problems == [], problems
