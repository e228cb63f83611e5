"""The web contact form over HTTP for browsers: ``GET /contact`` serves the form, and a browser's ``POST /contact``
(URL-encoded or multipart, ``Accept`` preferring ``text/html``) gets an HTML answer: a thank-you page with the
reference and the status link, or the form again with each field's error next to it and the customer's input kept.
JSON clients get the JSON answers of ``usecases.webhooks.receive_form`` as before.

No script; every value is escaped; the same headers as the status page (no-store, noindex, no-referrer, nosniff) and
a strict Content-Security-Policy that allows exactly the inline stylesheets and lets the form post only to this
site. A POST a browser says came from another site (``Sec-Fetch-Site``, ``Origin`` or ``Referer``) is refused.
"""
from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import urlparse

from chalicelib.channels.form import (
    MAX_EMAIL_CHARS,
    MAX_MESSAGE_CHARS,
    MAX_NAME_CHARS,
    MAX_TOPIC_CHARS,
    MULTIPART,
    URLENCODED,
    media_type,
)
from chalicelib.web import forms
from chalicelib.web.render import render, style_hash
from chalicelib.web.status_page import SECURITY_HEADERS

Answer = tuple[int, str, dict[str, str]]

#: The form's fields as the page shows them, in order: (name, label, required, longest value).
FIELDS: tuple[tuple[str, str, bool, int], ...] = (
    ("name", "Your name", True, MAX_NAME_CHARS),
    ("email", "Your e-mail address", True, MAX_EMAIL_CHARS),
    ("handle", "Your X handle", False, 31),
    ("topic", "Topic", False, MAX_TOPIC_CHARS),
    ("message", "Your message", True, MAX_MESSAGE_CHARS),
)
CROSS_SITE = "this form was sent from another site; please use the form on our website"

#: The form's own rules, beside the shared stylesheet (status.css): a second inline ``<style>``, allowed by its hash.
FORM_CSS = (
    ".contact p{margin:0 0 1rem}"
    ".contact textarea{width:100%;min-height:10rem;resize:vertical;font:inherit;padding:.5rem .6rem;"
    "border:1px solid var(--line);border-radius:8px}"
    ".contact input:focus,.contact textarea:focus,.contact button:focus{outline:3px solid #f0b400;outline-offset:1px}"
    ".contact .optional{font-weight:400;color:var(--muted)}"
    ".required{font-weight:400;color:#a4262c}"
    ".contact .hint{display:block;color:var(--muted);font-size:.9rem;margin:0 0 .3rem}"
    ".contact .error{display:block;color:#a4262c;font-weight:700;margin:0 0 .3rem}"
    ".contact [aria-invalid=true]{border:2px solid #a4262c}"
    ".visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}"
    ".contact .trap{position:absolute;left:-10000px;top:auto;width:1px;height:1px;overflow:hidden}"
    ".summary ul{margin:.4rem 0 0;padding-left:1.2rem}"
    ".summary a{color:var(--warn);font-weight:600}"
    ".sent p{margin:0 0 .75rem}"
)


@lru_cache(maxsize=1)
def form_style_hash() -> str:
    digest = hashlib.sha256(FORM_CSS.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def _headers() -> dict[str, str]:
    csp = (f"default-src 'none'; style-src {style_hash()} {form_style_hash()}; img-src data:; base-uri 'none'; "
           "form-action 'self'; frame-ancestors 'none'")
    return {"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": csp, **SECURITY_HEADERS}


def _quality(accept: str, media: str) -> float:
    """How much ``accept`` wants ``media``: the q of its most specific matching range (0 when none matches)."""
    best, rank = 0.0, -1
    for item in accept.split(","):
        kind, *params = (part.strip() for part in item.split(";"))
        kind = kind.lower()
        this = 2 if kind == media else 1 if kind == media.split("/")[0] + "/*" else 0 if kind == "*/*" else -1
        if this <= rank:
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        best, rank = (quality if 0.0 <= quality <= 1.0 else 0.0), this
    return best


def wants_html(content_type: str | None, accept: str) -> bool:
    """True for what a browser posting the form sends: form-encoded, and ``Accept`` preferring HTML to JSON (a
    client that accepts anything, as curl and most libraries do, gets JSON)."""
    return (media_type(content_type) in (URLENCODED, MULTIPART)
            and _quality(accept, "text/html") > _quality(accept, "application/json"))


def same_site(headers: Mapping[str, str], public_base_url: str) -> bool:
    """False for a POST a browser says came from another site (``forms.same_site``), or whose ``Referer`` names
    another host."""
    public_host = urlparse(public_base_url).netloc
    if not forms.same_site(headers, public_host):
        return False
    lower = {str(k).lower(): str(v) for k, v in headers.items()}
    referer = lower.get("referer", "")
    return not referer or urlparse(referer).netloc in (lower.get("host", ""), public_host)


def page(brand: str, *, status: int = 200, values: Mapping[str, str] | None = None,
         errors: Mapping[str, str] | None = None, notices: list[str] | None = None, language: str = "en") -> Answer:
    """The form, with ``values`` filled in, ``errors`` next to their fields and ``notices`` above it."""
    values = values or {}
    fields = [{"name": name, "label": label, "required": required, "maxlength": longest,
               "value": str(values.get(name, ""))[:longest], "error": (errors or {}).get(name, "")}
              for name, label, required, longest in FIELDS]
    body = render("contact.html", brand=brand, fields=fields, notices=notices or [], form_css=FORM_CSS,
                  language=language, sent=None)
    return status, body, _headers()


def thanks(brand: str, receipt: Mapping[str, Any], *, name: str = "", language: str = "en") -> Answer:
    """The thank-you page: the reference, the status link (none for a submission we drop) and what happens next."""
    sent = {"reference": receipt["reference"], "status_url": receipt.get("status_url") or "",
            "name": name.strip()[:MAX_NAME_CHARS]}
    body = render("contact.html", brand=brand, fields=[], notices=[], form_css=FORM_CSS, language=language,
                  sent=sent)
    return 202, body, _headers()


def refused(brand: str, status: int, message: str, details: Any, values: Mapping[str, str],
            language: str = "en") -> Answer:
    """The form again after a refusal: each field's error next to it, anything else above the form, the customer's
    input kept."""
    known = {name for name, *_ in FIELDS}
    errors: dict[str, str] = {}
    notices: list[str] = []
    for item in details if isinstance(details, list) else []:
        field, text = str(item.get("field", "")), str(item.get("message", ""))
        if field in known:
            errors.setdefault(field, text)
        elif field:
            notices.append(f"{field}: {text}")
        else:
            notices.append(text)
    if not errors and not notices:
        notices.append(message[:1].upper() + message[1:] + ("" if message.endswith(".") else "."))
    return page(brand, status=status, values=values, errors=errors, notices=notices, language=language)


def cross_site(brand: str, language: str = "en") -> Answer:
    return page(brand, status=403, notices=["This form was sent from another site. Please use the form below."],
                language=language)
