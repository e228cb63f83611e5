"""The status page over HTTP: content negotiation, HTML or JSON bodies, and the headers that keep it private.

HTML by default; JSON with ``Accept: application/json`` or a ``.json`` suffix on the token. Every answer, the 404
included, carries no-store, noindex and no-referrer headers; the HTML one a strict Content-Security-Policy.
"""
from __future__ import annotations

from typing import Any

from chalicelib.web.render import render, style_hash

JSON_SUFFIX = ".json"
NOT_FOUND_BODY = "Not found\n"

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Vary": "Accept",
}
_JSON_KEYS = ("reference", "status", "status_text", "desk", "desk_description", "desk_open", "opens_at",
              "expected_response", "incidents", "updated_at")


def wants_json(token: str, accept: str) -> tuple[str, bool]:
    """The bare token, and whether the caller asked for JSON (a ``.json`` suffix, or an Accept header that
    names application/json and not text/html, as a browser's does)."""
    if token.endswith(JSON_SUFFIX):
        return token[: -len(JSON_SUFFIX)], True
    accept = (accept or "").lower()
    return token, "application/json" in accept and "text/html" not in accept


def not_found() -> tuple[int, str, dict[str, str]]:
    return 404, NOT_FOUND_BODY, {"Content-Type": "text/plain; charset=utf-8", **SECURITY_HEADERS}


def as_json(page: dict[str, Any]) -> dict[str, Any]:
    out = {key: page[key] for key in _JSON_KEYS}
    out["timeline"] = [{"at": e["at"], "kind": e["kind"], "text": e["text"]} for e in page["timeline"]]
    if page.get("merged_from"):
        out["merged_from"] = page["merged_from"]
    return out


def respond(page: dict[str, Any], json: bool) -> tuple[int, Any, dict[str, str]]:
    """Status, body and headers for a status-page view (``usecases.status.status_view``)."""
    if json:
        return 200, as_json(page), {"Content-Type": "application/json", **SECURITY_HEADERS}
    csp = (f"default-src 'none'; style-src {style_hash()}; img-src data:; base-uri 'none'; "
           "form-action 'none'; frame-ancestors 'none'")
    headers = {"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": csp, **SECURITY_HEADERS}
    return 200, render("status.html", page=page), headers
