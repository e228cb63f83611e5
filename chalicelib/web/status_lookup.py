"""The status lookup over HTTP, ``GET /status`` and ``POST /status``: a form for a reference and the handle or
e-mail address the customer wrote from, which answers with a redirect to the signed status link.

For customers whose acknowledgement carried no link (a public reply on X: ``links.no_url_in_public``). No script;
every value is escaped; the same headers as the status page (no-store, noindex, no-referrer, nosniff) and a strict
Content-Security-Policy that lets the form post only to this site. A POST a browser says came from another site
is refused. Whatever does not match gets the same neutral "not found" page (``usecases.status.lookup``).
"""
from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl, urlparse

from chalicelib.web import forms
from chalicelib.web.render import render, style_hash
from chalicelib.web.status_page import SECURITY_HEADERS

#: The longest form body read: two short fields, with room for URL-encoding.
MAX_BODY = 2048
Answer = tuple[int, str, dict[str, str]]


def _headers() -> dict[str, str]:
    csp = (f"default-src 'none'; style-src {style_hash()}; img-src data:; base-uri 'none'; "
           "form-action 'self'; frame-ancestors 'none'")
    return {"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": csp, **SECURITY_HEADERS}


def page(brand: str, *, status: int = 200, message: str = "", language: str = "en") -> Answer:
    """The lookup form, with ``message`` above it (why the last attempt found nothing, or was refused)."""
    return status, render("status_lookup.html", brand=brand, message=message, language=language), _headers()


def not_found(brand: str, language: str = "en") -> Answer:
    return page(brand, status=404, language=language,
                message="We could not find a request with that reference and handle or e-mail address. Check both "
                        "(the reference is in our reply, it starts with R) and try again.")


def too_many(brand: str, language: str = "en") -> Answer:
    return page(brand, status=429, language=language,
                message="Too many lookups from your connection: please try again in an hour, or send us a direct "
                        "message and we will send you the link.")


def cross_site(brand: str, language: str = "en") -> Answer:
    return page(brand, status=403, language=language,
                message="This form was sent from another site. Please use the form below.")


def see_other(url: str) -> Answer:
    return 303, "", {"Location": url, "Content-Type": "text/plain; charset=utf-8", **SECURITY_HEADERS}


def same_site(headers: Mapping[str, str], public_base_url: str) -> bool:
    """False for a POST a browser says came from another site (the lookup changes nothing, so ``Origin: null`` from
    a no-referrer page is let through)."""
    return forms.same_site(headers, urlparse(public_base_url).netloc)


def read_form(raw_body: bytes | None) -> tuple[str, str]:
    """``(reference, who)`` from a form-encoded body; empty strings for anything unreadable (too long, not
    form-encoded): the lookup then finds nothing, as for a wrong reference."""
    body = raw_body or b""
    if len(body) > MAX_BODY:
        return "", ""
    try:
        fields = parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True, max_num_fields=10)
    except ValueError:
        return "", ""
    form: dict[str, str] = {}
    for key, value in fields:
        form.setdefault(key, value)
    return form.get("reference", ""), form.get("who", "")
