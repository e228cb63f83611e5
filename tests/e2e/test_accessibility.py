"""Accessibility of the pages leads and customers read, checked by axe-core in a real headless Chromium.

The European Accessibility Act applies to customer support pages since June 2025. axe-core (``tests/e2e/vendor/
axe.min.js``, MPL-2.0, vendored from the npm registry: never shipped in the Lambda package) runs its default rules
(WCAG 2.0/2.1/2.2 A and AA and best practices) on each page served by the real local stack: the customer's contact
form and status pages, and a lead's oversight and reports pages in the web inbox. Any violation rated ``serious``
or ``critical`` fails the test, printed rule by rule with the elements it found; lesser ones are printed only.

The script is evaluated through the browser's debugging protocol (as a person's browser extension would), so the
pages' own Content-Security-Policy stays exactly as served.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tests.e2e.conftest import PROJECT, sign_in

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
BLOCKING = ("serious", "critical")
LEAD = ("chloe", "Chloe-local-1")  # README: the local stack's lead (leads), on shift 08:00–18:00 Mon–Fri


def axe_violations(page) -> list[dict]:
    """axe-core's violations on the page as loaded (its default rule set)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate("async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
                           " return r.violations; }")
    return list(result)


def describe(url: str, violations: list[dict]) -> str:
    """The violations, one rule a paragraph: impact, rule, what it asks, where (selector and the markup)."""
    lines = [f"{url}: {len(violations)} rule(s) violated"]
    for v in violations:
        lines.append(f"  [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl'].split('?')[0]})")
        for node in v["nodes"][:8]:
            target = " ".join(json.dumps(t) if not isinstance(t, str) else t for t in node["target"])
            lines.append(f"      at {target}")
            lines.append(f"         {node['html'][:160]}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            if summary:
                lines.append(f"         {summary[:300]}")
        if len(v["nodes"]) > 8:
            lines.append(f"      … and {len(v['nodes']) - 8} more")
    return "\n".join(lines)


def check(page, label: str) -> list[str]:
    """Run axe on the page; print everything it found; answer the serious and critical findings, described."""
    violations = axe_violations(page)
    if violations:
        print(describe(f"{label} ({page.url})", violations))
    else:
        print(f"{label} ({page.url}): no violation")
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    return [describe(f"{label} ({page.url})", blocking)] if blocking else []


def test_axe_finds_no_serious_violation_on_the_reports_oversight_status_and_contact_pages(wednesday_stack,
                                                                                            chromium):
    from playwright.sync_api import sync_playwright

    from tests.e2e.test_reports_page import _seed
    from tests.e2e.test_status_browser import _link_from_stored_ticket
    from tools.browser import HEADLESS_FLAGS

    stack = wednesday_stack
    _seed(stack)  # two days of tickets, some answered: the reports have figures and charts, oversight has work
    status_link = _link_from_stored_ticket(stack)
    found: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=list(HEADLESS_FLAGS))
        try:
            for viewport in ({"width": 1280, "height": 900}, {"width": 390, "height": 844}):
                context = browser.new_context(viewport=viewport)
                page = context.new_page()
                page.set_default_timeout(15_000)
                size = f"{viewport['width']}px"
                for label, path in (("contact form", "/contact"), ("status lookup", "/status")):
                    response = page.goto(stack.base + path)
                    assert response is not None and response.status == 200, path
                    found += check(page, f"{label}, {size}")
                response = page.goto(status_link)
                assert response is not None and response.status == 200
                found += check(page, f"status page, {size}")

                sign_in(page, stack.base, *LEAD)
                for label, path in (("oversight", "/inbox/oversight"), ("reports", "/inbox/reports"),
                                    ("reports by week on X", "/inbox/reports?by=week&channel=x")):
                    response = page.goto(stack.base + path)
                    assert response is not None and response.status == 200, path
                    page.wait_for_load_state("networkidle")
                    if label.startswith("reports"):  # checked as drawn: the charts are on the page
                        assert page.locator("figure.chart:not([hidden]) canvas").count() >= 3
                    found += check(page, f"{label}, {size}")
                context.close()
        finally:
            browser.close()
    assert not found, "axe-core found serious or critical violations:\n\n" + "\n\n".join(found)


def test_the_axe_script_is_vendored_with_its_licence_and_not_shipped():
    """axe-core runs only in the tests: its file and its licence sit under tests/e2e/vendor, never in chalicelib."""
    assert AXE.stat().st_size > 100_000
    assert AXE.read_text(encoding="utf-8").startswith("/*! axe v")
    assert (AXE.parent / "axe-core-LICENSE").read_text(encoding="utf-8").startswith("Mozilla Public License")
    assert not list((PROJECT / "chalicelib").rglob("axe*.js"))
    digest = hashlib.sha256(AXE.read_bytes()).hexdigest()
    assert f"`{digest}`" in (AXE.parent / "README.md").read_text(encoding="utf-8")
