"""The web inbox in a real headless Chromium driven by Playwright, served by the real local stack (`make run`).

A customer tweets on a Wednesday morning; Amira signs in, takes the next ticket, types a reply (the live counter
counts it as X does), sends it, sees it reach the local outbox on X and the customer's status page say we replied,
and resolves the ticket. Screenshots: artifacts/inbox.png (the inbox, desktop) and artifacts/inbox-ticket.png (the
ticket, phone), artifacts/inbox-labelled.png (the ticket after a label) and artifacts/inbox-oversight.png (a
lead's oversight with the labels). Then Ben inserts a saved reply carrying an active incident's text, edits it and
sends it (artifacts/inbox-saved-reply.png). Chromium comes from ``tools.browser``; without one the test is skipped.
"""
from __future__ import annotations

import os
import re
import time
from urllib.parse import urlparse

import pytest
import requests

from chalicelib.domain.textlength import x_length as x_weighted_length
from tests.e2e.conftest import PROJECT
from tests.e2e.test_local_stack import send_tweet

ARTIFACTS = PROJECT / "artifacts"
TWEET_ID = "300001"
CUSTOMER_TEXT = "@MeridianRail my 08:12 from Reading was cancelled <b>again</b>, can I get a refund?"
REPLY = "Sorry Pat, that's not good enough. Claim Delay Repay at https://www.example.com/delay-repay?from=RDG"
MIXED = "Délai 🚆🚆 — 遅延 see www.example.org/x and example.co.uk"  # emoji and CJK weigh 2, links 23
#: texts where a counter could drift from chalicelib/domain/agent.py: word boundaries before links, bare domains,
#: joined emoji, line ends, spaces the reply loses when it is trimmed
PARITY = ("éwww.example.com/a and _www.example.com", "see HTTP://EXAMPLE.COM/X?y=1,then", "example.community",
          "👩‍👩‍👧 family\nline two\n", "  padded  ", "x.co/1 y.uk z.ly/2?q=<a>", "ｆｕｌｌｗｉｄｔｈ　ｓｐａｃｅ",
          "١٢٣ ٤٥٦.com")
ACCENT = "rgb(11, 79, 138)"  # --accent in chalicelib/web/inbox.css


@pytest.fixture(scope="module")
def chromium():
    if os.environ.get("RESPONDER_SKIP_BROWSER") == "1":
        pytest.skip("RESPONDER_SKIP_BROWSER=1: browser tests skipped on request")
    from tools.browser import ensure_chromium

    found = ensure_chromium()
    if not found:
        pytest.skip("no Chromium found: install Debian's chromium package or set CHROMIUM=<path>")
    return found


def sent_to(stack, tweet_id: str) -> list[dict]:
    return [m for m in stack.get("/local/outbox").json()["messages"] if m.get("in_reply_to") == tweet_id]


def test_an_agent_signs_in_takes_answers_and_resolves_in_the_browser(wednesday_stack, chromium):
    from playwright.sync_api import expect, sync_playwright

    from tools.browser import HEADLESS_FLAGS

    stack = wednesday_stack
    ARTIFACTS.mkdir(exist_ok=True)
    send_tweet(stack, TWEET_ID, CUSTOMER_TEXT, user_id="3001", handle="pat_e2e")
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=list(HEADLESS_FLAGS))
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 860})
            page = context.new_page()
            page.set_default_timeout(10_000)
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)  # CSP reports here
            page.on("requestfailed", lambda r: problems.append(f"{r.url} failed"))
            page.on("response", lambda r: problems.append(f"{r.url} {r.status}") if r.status >= 400 else None)
            page.on("pageerror", lambda e: problems.append(str(e)))

            # signing in: the inbox sends a stranger to the sign-in page first
            page.goto(stack.base + "/inbox")
            expect(page).to_have_url(re.compile(r"/inbox/sign-in\?why=required$"))
            expect(page.get_by_role("status")).to_have_text("Sign in to use the inbox.")
            page.get_by_label("Username").fill("amira")
            page.get_by_label("Password").fill("Amira-local-1")
            page.get_by_role("button", name="Sign in").click()
            expect(page).to_have_url(stack.base + "/inbox")
            session = next(c for c in context.cookies() if c["name"] == "inbox_session")
            assert session["httpOnly"] and session["sameSite"] == "Strict" and session["path"] == "/inbox"
            assert session["value"] not in page.content()

            # the tweet reaches the complaints desk (the pipeline runs in the stack's own threads)
            complaints = page.locator("li.desk", has=page.get_by_role("heading", name="complaints"))
            deadline = time.monotonic() + 15
            while complaints.locator(".depth").inner_text() != "1" and time.monotonic() < deadline:
                time.sleep(0.3)
                page.reload()
            expect(complaints.locator(".depth")).to_have_text("1")
            expect(page.get_by_text("customer_service", exact=False).first).to_be_visible()
            masthead = page.locator(".masthead").evaluate("e => getComputedStyle(e).backgroundColor")
            assert masthead == ACCENT  # the stylesheet loaded under the CSP
            page.screenshot(path=str(ARTIFACTS / "inbox.png"), full_page=True)

            # take next: the ticket, with the customer's words as text
            page.get_by_role("button", name="Take next (any desk)").click()
            expect(page).to_have_url(re.compile(r"/inbox/tickets/[0-9A-Z]+(\?|$)"))
            ticket_id = urlparse(page.url).path.rsplit("/", 1)[1]
            expect(page.get_by_role("status")).to_have_text(f"You hold ticket {ticket_id} now.")
            expect(page.locator(".message .text").first).to_have_text(CUSTOMER_TEXT)
            assert page.locator(".message b").count() == 0  # markup shown, never interpreted

            # the live counter counts like X: links 23, emoji 2
            counter = page.locator("#reply-count")
            expect(counter).to_have_text("0 of 280 characters as X counts them: 280 left")
            box = page.get_by_label(re.compile(r"^Reply to pat_e2e on X"))
            box.press_sequentially("Sorry")
            expect(counter).to_have_text("5 of 280 characters as X counts them: 275 left")
            box.fill(REPLY)
            used = x_weighted_length(REPLY)
            assert used != len(REPLY)
            expect(counter).to_have_text(f"{used} of 280 characters as X counts them: {280 - used} left")
            box.fill(MIXED)
            used = x_weighted_length(MIXED)
            expect(counter).to_have_text(f"{used} of 280 characters as X counts them: {280 - used} left")
            for text in PARITY:
                box.fill(text)
                used = x_weighted_length(text.strip())
                expect(counter).to_have_text(f"{used} of 280 characters as X counts them: {280 - used} left")
            box.fill("🚆" * 141)
            expect(counter).to_have_text("282 of 280 characters as X counts them: 2 over the limit")
            expect(counter).to_have_class(re.compile(r"\bover\b"))
            page.get_by_label(re.compile(r"^Reply privately")).check()
            expect(counter).to_have_text("141 of 10000 characters: 9859 left")
            page.get_by_label(re.compile(r"^Reply privately")).uncheck()
            box.fill(REPLY)

            # send: once, on X, publicly
            page.get_by_role("button", name="Send reply").click()
            expect(page.get_by_role("status")).to_have_text("Reply queued: it goes to the customer publicly on X.")
            sent = stack.wait_for(lambda: sent_to(stack, TWEET_ID), timeout=10, interval=0.2)
            assert len(sent) == 1 and sent[0]["channel"] == "x" and sent[0]["text"] == REPLY
            assert sent[0]["private"] is False
            expect(page.locator(".message-ours .text")).to_have_text(REPLY)

            # the customer's status page says we replied
            status_url = page.locator("a.status-link").get_attribute("href")
            assert status_url and status_url.startswith(stack.base + "/s/")
            status_page = requests.get(status_url, timeout=10).text
            assert "We replied to you" in status_page

            # why triage answered as it did, beside the label control; the signals open on request
            why = page.locator(".triage-why")
            expect(why).to_contain_text("Triage answered automatically")
            expect(why.locator("dd").first).to_have_text(re.compile(r"^(yes|no) — \S"))
            expect(why.locator(".signals li").first).to_be_hidden()
            why.get_by_text(re.compile(r"signals? that decided$")).click()
            expect(why.locator(".signals li").first).to_be_visible()

            # the ticket on a phone
            page.set_viewport_size({"width": 390, "height": 844})
            page.screenshot(path=str(ARTIFACTS / "inbox-ticket.png"), full_page=True)
            page.set_viewport_size({"width": 1280, "height": 860})

            # resolve
            page.get_by_role("button", name="Resolve", exact=True).click()
            expect(page.get_by_role("status")).to_have_text(f"Ticket {ticket_id} resolved.")
            expect(page.get_by_role("button", name="Reopen")).to_be_visible()
            assert requests.get(status_url + ".json", timeout=10).json()["status"] == "resolved"
            assert len(sent_to(stack, TWEET_ID)) == 1

            # triage read the tweet as a complaint; Amira labels it a question (a resolved ticket too)
            expect(page.get_by_label("The first message is")).to_have_value("complaint")
            page.get_by_label("The first message is").select_option("question")
            page.get_by_role("button", name="Save label").click()
            expect(page.get_by_role("status")).to_have_text("Labelled question; triage had said complaint.")
            expect(page.get_by_label("The first message is")).to_have_value("question")
            expect(page.locator("#label-hint")).to_contain_text("last label: amira: question (triage: complaint)")
            page.screenshot(path=str(ARTIFACTS / "inbox-labelled.png"), full_page=True)

            # a lead sees it on the oversight page and downloads the labels for the triage report
            page.get_by_role("button", name="Sign out").click()
            page.get_by_label("Username").fill("chloe")
            page.get_by_label("Password").fill("Chloe-local-1")
            page.get_by_role("button", name="Sign in").click()
            page.goto(stack.base + "/inbox/oversight")
            labels = page.locator("section", has=page.get_by_role("heading", name="Triage labels"))
            expect(labels).to_contain_text("agents labelled 1 ticket; triage had said the same for 0.")
            expect(labels.get_by_role("row", name="complaint → question 1")).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "inbox-oversight.png"), full_page=True)
            link = labels.get_by_role("link", name="Download every label (CSV)")
            assert link.get_attribute("download") == "triage-labels.csv"
            fetched = context.request.get(stack.base + link.get_attribute("href").removeprefix(stack.base))
            assert fetched.status == 200 and fetched.headers["content-type"] == "text/csv; charset=utf-8"
            exported = fetched.text().splitlines()
            assert exported[0].startswith("tweet_id,author_id,created_at,text,reply,intent,urgent,channel,triaged")
            assert exported[1].startswith(f"{TWEET_ID},") and ",question,no,x,complaint,yes,amira," in exported[1]
        finally:
            browser.close()
    assert problems == []
    for name in ("inbox.png", "inbox-ticket.png", "inbox-labelled.png", "inbox-oversight.png"):
        assert (ARTIFACTS / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_agent_inserts_a_saved_reply_with_the_incidents_text_edits_it_and_sends_it(wednesday_stack, chromium):
    """The ticket's "Saved replies" list beside the reply box: choosing the cancellation notice puts it in the box,
    rendered for this ticket with the active incident's text; the counter counts it; the agent edits it and sends
    it. Screenshot: artifacts/inbox-saved-reply.png."""
    from playwright.sync_api import expect, sync_playwright

    from tests.e2e.test_local_stack import ADMIN
    from tools.browser import HEADLESS_FLAGS

    stack = wednesday_stack
    ARTIFACTS.mkdir(exist_ok=True)
    declared = stack.post("/admin/incidents", headers=ADMIN, json={
        "title": "Signal failure at Didcot", "text": "A signal failure at Didcot is delaying trains by up to 40 "
        "minutes", "url": "https://status.example-rail.test/didcot", "desks": ["complaints"], "keywords": ["didcot"]})
    assert declared.status_code == 201, declared.text
    incident_id = declared.json()["incident_id"]
    tweet_id = "300201"

    def waiting() -> list[str]:
        return [t["ticket_id"] for t in stack.get("/admin/backlog/complaints", headers=ADMIN).json()["tickets"]]

    before = set(waiting())
    send_tweet(stack, tweet_id, "@MeridianRail my train at Didcot was cancelled, awful", user_id="3201",
               handle="sam_e2e")
    new = stack.wait_for(lambda: set(waiting()) - before, timeout=15)
    assert len(new) == 1
    ticket_id = new.pop()
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=list(HEADLESS_FLAGS))
        try:
            page = signed_in_pages(browser, stack, problems, ("ben", "Ben-local-1"))["ben"]
            page.goto(f"{stack.base}/inbox/tickets/{ticket_id}")
            page.get_by_role("button", name="Take this ticket").click()
            expect(page.get_by_role("status")).to_have_text(f"You hold ticket {ticket_id} now.")

            saved = page.locator("details.saved-replies")
            saved.locator("summary").click()
            choice = saved.get_by_role("link", name="Cancellation, with the incident notice")
            expect(choice).to_be_visible()
            choice.click()
            box = page.get_by_label(re.compile(r"^Reply to sam_e2e on X"))
            inserted = box.input_value()
            assert re.match(r"Sorry [^,@#]+, your train was cancelled\. A signal failure at Didcot is delaying "
                            r"trains by up to 40 minutes\. Ref ", inserted), inserted
            assert "https://" not in inserted  # a public X reply carries no link
            assert inserted.endswith(f"Ref {ticket_id}")
            assert "saved=" not in page.url  # inserted by the script, no reload
            counter = page.locator("#reply-count")
            used = x_weighted_length(inserted)
            expect(counter).to_have_text(f"{used} of 280 characters as X counts them: {280 - used} left")

            edited = inserted.replace(f"Ref {ticket_id}", f"We'll refund you in full. Ref {ticket_id}")
            box.fill(edited)
            used = x_weighted_length(edited)
            expect(counter).to_have_text(f"{used} of 280 characters as X counts them: {280 - used} left")
            saved.locator("summary").click()  # the list open beside the edited reply, for the screenshot
            page.screenshot(path=str(ARTIFACTS / "inbox-saved-reply.png"), full_page=True)

            page.get_by_role("button", name="Send reply").click()
            expect(page.get_by_role("status")).to_have_text("Reply queued: it goes to the customer publicly on X.")
            sent = stack.wait_for(lambda: [m for m in sent_to(stack, tweet_id) if m["kind"] == "reply"], timeout=10,
                                  interval=0.2)
            assert len(sent) == 1 and sent[0]["text"] == edited

            # without the script: the list's link reloads the ticket with the saved reply in the box
            page.goto(f"{stack.base}/inbox/tickets/{ticket_id}?saved=thanks_praise")
            expect(page.get_by_role("status")).to_contain_text("is in the reply box: edit it, then send.")
            assert page.get_by_label(re.compile(r"^Reply to sam_e2e on X")).input_value().startswith("Thank you")
        finally:
            browser.close()
            stack.post(f"/admin/incidents/{incident_id}/resolve", headers=ADMIN, json={})
    assert problems == []
    assert (ARTIFACTS / "inbox-saved-reply.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_agent_filters_a_desk_searches_a_customer_sees_their_history_and_works_by_keyboard(wednesday_stack,
                                                                                              chromium):
    """A desk's list filtered by the form, the header's search by a handle, the customer's history on their ticket,
    then the keyboard: ``n`` takes the next ticket, ``?`` shows the shortcuts (Esc closes them), ``r`` and ``e``
    send and resolve. Screenshots: artifacts/inbox-desk-list.png, inbox-search.png and inbox-help.png."""
    from playwright.sync_api import expect, sync_playwright

    from tests.e2e.test_local_stack import ADMIN
    from tools.browser import HEADLESS_FLAGS

    stack = wednesday_stack
    ARTIFACTS.mkdir(exist_ok=True)

    def waiting() -> set[str]:
        return {t["ticket_id"] for t in stack.get("/admin/backlog/complaints", headers=ADMIN).json()["tickets"]}

    before = waiting()
    send_tweet(stack, "300301", "@MeridianRail my train was cancelled and the app says nothing", user_id="3301",
               handle="kim_e2e")
    earlier = stack.wait_for(lambda: waiting() - before, timeout=15).pop()
    before = waiting()
    send_tweet(stack, "300302", "@MeridianRail cancelled again, the 17:40 this time", user_id="3302",
               handle="kim_alt_e2e")
    ticket_id = stack.wait_for(lambda: waiting() - before, timeout=15).pop()
    # the earlier ticket answered and resolved, then the two accounts linked: one customer, one history
    token = stack.post("/agent/sign-in", json={"username": "amira", "password": "Amira-local-1"}).json()["token"]
    api = {"Authorization": f"Bearer {token}"}
    assert stack.post(f"/agent/tickets/{earlier}/claim", headers=api, json={}).status_code == 200
    done = stack.post(f"/agent/tickets/{earlier}/reply_resolve", headers=api, json={"text": "Refund sent, Kim."})
    assert done.status_code == 200 and done.json()["ticket"]["status"] == "resolved", done.text
    assert stack.post("/agent/customer-links", headers=api, json={"identity": "x#3301", "with": "x#3302"}).ok

    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=list(HEADLESS_FLAGS))
        try:
            page = signed_in_pages(browser, stack, problems, ("amira", "Amira-local-1"))["amira"]

            # the desk's list, filtered by the form (GET parameters)
            page.get_by_role("link", name="Tickets of complaints").click()
            expect(page).to_have_url(stack.base + "/inbox/desks/complaints")
            rows = page.locator("table.desk-list tbody tr")
            expect(rows.filter(has_text=ticket_id)).to_have_count(1)
            page.get_by_label("State").select_option("open")
            page.get_by_label("Channel").select_option("x")
            page.get_by_role("button", name="Show").click()
            expect(page).to_have_url(re.compile(r"/inbox/desks/complaints\?state=open&priority=&flag=&channel=x"))
            expect(rows.filter(has_text=ticket_id)).to_have_count(1)
            expect(page.get_by_label("State")).to_have_value("open")
            page.screenshot(path=str(ARTIFACTS / "inbox-desk-list.png"), full_page=True)

            # "/" focuses the header's search; a handle finds the customer and both tickets
            page.locator("body").click(position={"x": 5, "y": 300})
            page.keyboard.press("/")
            search = page.get_by_role("searchbox", name="Search tickets and customers")
            expect(search).to_be_focused()
            search.fill("@kim_alt_e2e")
            search.press("Enter")
            expect(page).to_have_url(re.compile(r"/inbox/search\?q="))
            found = page.locator("article.customer")
            expect(found).to_contain_text("x#3301")
            expect(found.get_by_role("link", name=earlier)).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "inbox-search.png"), full_page=True)

            # their open ticket shows the history: the earlier ticket, resolved
            found.get_by_role("link", name=ticket_id).click()
            history = page.locator("section", has=page.get_by_role("heading", name="The customer's history"))
            expect(history.get_by_role("row", name=re.compile(earlier))).to_contain_text("resolved")

            # "n" takes the next ticket, "?" lists the shortcuts in a dialog that Esc closes
            page.goto(stack.base + "/inbox")
            page.keyboard.press("n")
            expect(page).to_have_url(re.compile(r"/inbox/tickets/[0-9A-Z]+(\?|$)"))
            taken = urlparse(page.url).path.rsplit("/", 1)[1]
            expect(page.get_by_role("status")).to_have_text(f"You hold ticket {taken} now.")
            page.keyboard.press("?")
            dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
            expect(dialog).to_be_visible()
            expect(dialog).to_contain_text("Take the next ticket")
            page.screenshot(path=str(ARTIFACTS / "inbox-help.png"))
            page.keyboard.press("Escape")
            expect(dialog).to_be_hidden()

            # "r" is the reply box; typing "e" there is text, not a shortcut; "e" outside sends and resolves
            page.keyboard.press("r")
            box = page.locator("#reply-text")
            expect(box).to_be_focused()
            page.keyboard.type("Sorry about the 17:40, we are on it")
            expect(box).to_have_value("Sorry about the 17:40, we are on it")
            box.evaluate("e => e.blur()")
            page.keyboard.press("e")
            expect(page.get_by_role("status")).to_have_text(f"Reply queued and ticket {taken} resolved.")
        finally:
            browser.close()
    assert problems == []
    for name in ("inbox-desk-list.png", "inbox-search.png", "inbox-help.png"):
        assert (ARTIFACTS / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def signed_in_pages(browser, stack, problems: list[str], *agents: tuple[str, str]) -> dict:
    """A page per agent, each in its own browser context, signed in and on the inbox; console errors and page
    errors go to ``problems``."""
    from playwright.sync_api import expect

    pages = {}
    for name, password in agents:
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.set_default_timeout(10_000)
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(stack.base + "/inbox/sign-in")
        page.get_by_label("Username").fill(name)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(stack.base + "/inbox")
        pages[name] = page
    return pages


def test_a_second_agents_page_updates_without_a_reload(wednesday_stack, chromium):
    """Amira's inbox stays open; Ben takes the next ticket in his own browser: Amira's page shows the desk's new
    depth without reloading (the pulse, docs/adr/0023). Screenshot: artifacts/inbox-live.png."""
    from playwright.sync_api import expect, sync_playwright

    from tests.e2e.test_local_stack import ADMIN
    from tools.browser import HEADLESS_FLAGS

    stack = wednesday_stack
    ARTIFACTS.mkdir(exist_ok=True)

    def depth() -> int:
        return len(stack.get("/admin/backlog/complaints", headers=ADMIN).json()["tickets"])

    before = depth()
    send_tweet(stack, "300401", "@MeridianRail my train was cancelled, stuck at Didcot", user_id="3401",
               handle="lee_e2e")
    stack.wait_for(lambda: depth() > before, timeout=15)
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=list(HEADLESS_FLAGS))
        try:
            pages = signed_in_pages(browser, stack, problems, ("amira", "Amira-local-1"), ("ben", "Ben-local-1"))
            amira, ben = pages["amira"], pages["ben"]
            complaints = amira.locator("li.desk[data-desk='complaints'] .depth")
            shown = int(complaints.inner_text())
            assert shown >= 1
            amira.wait_for_timeout(500)  # the script's first pulse, which only remembers what the page shows
            ben.get_by_role("button", name="Take next (any desk)").click()
            expect(ben).to_have_url(re.compile(r"/inbox/tickets/[0-9A-Z]+(\?|$)"))
            loaded = amira.url
            # the page asks again within 15 seconds, or at once when it is looked at again
            amira.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
            expect(complaints).to_have_text(str(shown - 1), timeout=20_000)
            assert amira.url == loaded and "changed" in (complaints.get_attribute("class") or "")
            amira.screenshot(path=str(ARTIFACTS / "inbox-live.png"), full_page=True)
        finally:
            browser.close()
    assert not problems, problems


def test_a_lead_searches_a_customer_and_assigns_their_ticket_to_an_agent(wednesday_stack, chromium):
    """Chloe (a lead) filters the complaints desk to urgent work, finds the customer by handle from the header's
    search, opens the ticket and gives it to Ben from the "Give it to" list; Ben's inbox holds it. Screenshot:
    artifacts/inbox-assign.png."""
    from playwright.sync_api import expect, sync_playwright

    from tests.e2e.test_local_stack import ADMIN
    from tools.browser import HEADLESS_FLAGS

    stack = wednesday_stack
    ARTIFACTS.mkdir(exist_ok=True)

    def waiting() -> set[str]:
        return {t["ticket_id"] for t in stack.get("/admin/backlog/complaints", headers=ADMIN).json()["tickets"]}

    before = waiting()
    send_tweet(stack, "300501", "@MeridianRail stranded at Didcot Parkway, last train cancelled", user_id="3501",
               handle="jo_e2e")
    ticket_id = stack.wait_for(lambda: waiting() - before, timeout=15).pop()
    assert stack.post("/agent/sign-in", json={"username": "ben", "password": "Ben-local-1"}).ok  # Ben is at work
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=list(HEADLESS_FLAGS))
        try:
            pages = signed_in_pages(browser, stack, problems, ("chloe", "Chloe-local-1"), ("ben", "Ben-local-1"))
            chloe, ben = pages["chloe"], pages["ben"]
            chloe.goto(stack.base + "/inbox/desks/complaints")  # the desk's list, filtered to urgent work
            chloe.get_by_label("Priority").select_option("urgent")
            chloe.get_by_role("button", name="Show").click()
            expect(chloe).to_have_url(re.compile(r"/inbox/desks/complaints\?.*priority=urgent"))
            expect(chloe.locator("table").get_by_text(ticket_id)).to_be_visible()
            chloe.get_by_label("Search tickets and customers").fill("@jo_e2e")
            chloe.keyboard.press("Enter")
            chloe.get_by_role("link", name=re.compile(ticket_id)).first.click()
            expect(chloe).to_have_url(re.compile(rf"/inbox/tickets/{ticket_id}"))
            chloe.get_by_label("Give it to").select_option("ben")
            chloe.get_by_role("button", name="Assign", exact=True).click()
            expect(chloe.get_by_role("status")).to_have_text(
                f"Ticket {ticket_id} assigned to ben: it is in their tickets now.")
            chloe.screenshot(path=str(ARTIFACTS / "inbox-assign.png"), full_page=True)
            ben.reload()
            expect(ben.locator("section", has=ben.get_by_role("heading", name="Tickets you hold"))
                   .get_by_text(ticket_id)).to_be_visible()
        finally:
            browser.close()
    assert not problems, problems
