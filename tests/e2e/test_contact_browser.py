"""The web contact form in a real headless Chromium driven by Playwright, served by the real local stack (`make run`).

At 03:00 on a Sunday a customer opens /contact, fills in the form and sends it: the browser shows the thank-you page
with the reference, the customer follows the status link to their status page, and the acknowledgement e-mail with
the same reference reaches the local outbox. A second customer sends an empty message: the form comes back with the
error next to the message field and their name kept. Screenshots: artifacts/contact-form.png (the form, phone),
artifacts/contact-sent.png (the thank-you page, phone) and artifacts/contact-error.png (the form with the error).
Chromium comes from ``tools.browser.ensure_chromium()``; without it this test fails; set ``RESPONDER_SKIP_BROWSER=1``
to skip it deliberately.
"""
from __future__ import annotations

import re

from tests.e2e.conftest import PROJECT

ARTIFACTS = PROJECT / "artifacts"
ACCENT = "rgb(11, 79, 138)"  # --accent in chalicelib/web/status.css
PHONE = {"width": 390, "height": 844}
#: what Chromium logs for the form's refused post (422): expected, once, in the test of an empty message
EXPECTED_422 = "Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"


def acks_to(stack, recipient: str) -> list[dict]:
    return [m for m in stack.get("/local/outbox").json()["messages"]
            if m["recipient"] == recipient and m["idempotency_key"].startswith("ack#")]


def open_browser(playwright, chromium, problems: list[str]):
    from tools.browser import HEADLESS_FLAGS

    browser = playwright.chromium.launch(executable_path=chromium, args=list(HEADLESS_FLAGS))
    page = browser.new_context(viewport=PHONE).new_page()
    page.set_default_timeout(10_000)
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)  # CSP reports here
    page.on("requestfailed", lambda r: problems.append(f"{r.url} failed"))
    page.on("pageerror", lambda e: problems.append(str(e)))
    return browser, page


def test_a_customer_sends_the_form_sees_the_reference_and_follows_the_status_link(sunday_night_stack, chromium):
    from playwright.sync_api import expect, sync_playwright

    stack = sunday_night_stack
    ARTIFACTS.mkdir(exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser, page = open_browser(playwright, chromium, problems)
        try:
            response = page.goto(stack.base + "/contact")
            assert response is not None and response.status == 200
            assert "form-action 'self'" in response.headers["content-security-policy"]
            expect(page).to_have_title(re.compile(r"^Contact us · "))
            expect(page.get_by_role("heading", name="Contact us")).to_be_visible()
            masthead = page.locator(".masthead").evaluate("e => getComputedStyle(e).backgroundColor")
            assert masthead == ACCENT  # the stylesheet loaded under the CSP
            trap = page.locator("#website").bounding_box()  # the honeypot: off the screen, and not read out
            assert trap is not None and trap["x"] + trap["width"] <= 0, trap
            assert page.get_by_role("textbox", name=re.compile("Leave this field empty")).count() == 0

            page.get_by_label("Your name").fill("Ada Rider")
            page.get_by_label("Your e-mail address").fill("ada.rider@example.org")
            page.get_by_label("Your X handle").fill("@ada_rides")
            page.get_by_label("Topic").fill("Refund")
            page.get_by_label("Your message").fill("I was charged twice for my season ticket.\nPlease refund one.")
            page.screenshot(path=str(ARTIFACTS / "contact-form.png"), full_page=True)
            page.get_by_role("button", name="Send my message").click()

            expect(page.get_by_role("heading", name="Thanks for getting in touch, Ada Rider")).to_be_visible()
            reference = page.locator(".reference strong").inner_text()
            assert re.fullmatch(r"R[0-9A-Z]{8}", reference), reference
            expect(page.get_by_text(f"Your reference is {reference}, follow it here:")).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "contact-sent.png"), full_page=True)

            # the acknowledgement e-mail (the desks are closed) carries the same reference
            [ack] = stack.wait_for(lambda: acks_to(stack, "ada.rider@example.org"), timeout=15, interval=0.2)
            assert reference in ack["text"]

            link = page.get_by_role("link", name="see the status of your request")
            href = link.get_attribute("href")
            assert href and href.startswith(f"{stack.base}/s/{reference}-")
            link.click()
            expect(page).to_have_url(href)
            expect(page.get_by_text(reference).first).to_be_visible()
            expect(page.get_by_text("We received your message")).to_be_visible()
        finally:
            browser.close()
    assert problems == []
    for name in ("contact-form.png", "contact-sent.png"):
        assert (ARTIFACTS / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_empty_message_shows_the_error_next_to_the_field_and_keeps_the_name(sunday_night_stack, chromium):
    from playwright.sync_api import expect, sync_playwright

    stack = sunday_night_stack
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser, page = open_browser(playwright, chromium, problems)
        try:
            page.goto(stack.base + "/contact")
            page.get_by_label("Your name").fill("Bea <b>Traveller</b>")
            page.get_by_label("Your e-mail address").fill("bea@example.org")
            with page.expect_response(re.compile(r"/contact$")) as answered:
                page.get_by_role("button", name="Send my message").click()
            assert answered.value.status == 422

            expect(page).to_have_title(re.compile(r"^Error: contact us · "))
            message = page.get_by_label("Your message")
            expect(message).to_have_attribute("aria-invalid", "true")
            expect(message).to_have_accessible_description(re.compile(r"Must not be empty\."))
            # the error sits in the message field's own paragraph, between its label and the box
            expect(page.locator("p", has=page.locator("#message")).locator(".error")).to_have_text(
                "Error: Must not be empty.")
            expect(page.get_by_role("alert")).to_contain_text("Your message: Must not be empty.")
            expect(page.get_by_label("Your name")).to_have_value("Bea <b>Traveller</b>")
            expect(page.get_by_label("Your e-mail address")).to_have_value("bea@example.org")
            expect(page.get_by_label("Your name")).not_to_have_attribute("aria-invalid", "true")
            assert page.locator("b").count() == 0  # the name shown as typed, never interpreted
            page.screenshot(path=str(ARTIFACTS / "contact-error.png"), full_page=True)

            # put right and sent: the thank-you page
            message.fill("My refund never arrived.")
            page.get_by_role("button", name="Send my message").click()
            expect(page.get_by_role("heading", name=re.compile(r"^Thanks for getting in touch"))).to_be_visible()
        finally:
            browser.close()
    assert [problem for problem in problems if problem != EXPECTED_422] == []
