"""What an incident follow-up says: one reply to a customer whose ticket an incident affects, about one change to
that incident — an update, or its resolution.

The text is rendered from the brand's ``incident_followup`` template with the incident's title, its text as it
reads after the change (``incident_text``), its link, and the change itself (``incident_change``: ``update`` or
``resolved``), so a customer reads what happened, not only that something did. On X it must fit 280 characters
(URLs count 23, as :func:`chalicelib.domain.textlength.x_length` counts): the incident's text is cut at a word, with an
ellipsis, or left out, before the link or the reference ever are.

The outbox kind, and so the kind of the ticket's timeline entry once the reply is sent, says which change it was
about (``incident_update`` or ``incident_resolved``): the status page must never tell a customer a problem was
fixed when they were only sent an update.
"""
from __future__ import annotations

import re

from chalicelib.domain.ack import fits, length, limit, stamped
from chalicelib.domain.incident import Incident
from chalicelib.domain.templates import render

__all__ = ["CHANGES", "LEGACY_KIND", "OUTBOX_KINDS", "RESOLVED", "TEMPLATE_KIND", "UPDATE", "compose"]

UPDATE, RESOLVED = "update", "resolved"
CHANGES = (UPDATE, RESOLVED)
#: The outbox kind of a follow-up about each change; once sent, also the kind of the ticket's timeline entry.
OUTBOX_KINDS = {UPDATE: "incident_update", RESOLVED: "incident_resolved"}
#: The one kind every follow-up had before updates and resolutions were told apart (on older tickets' timelines).
LEGACY_KIND = "incident_followup"
#: The brand template follow-ups are rendered from (``templates.incident_followup`` in ``brand.yaml``).
TEMPLATE_KIND = "incident_followup"

_ELLIPSIS = "…"
_URL = re.compile(r"https?://\S+")
_TRAILING = ".,;:!?-–— "


def compose(template: str, *, channel: str, incident: Incident, change: str, reference: str, name: str = "",
            desk: str = "", notice: str = "") -> str:
    """The follow-up about ``change`` (``update`` or ``resolved``) of ``incident``, sized for ``channel``, ending with
    ``notice`` (the brand's ``automated_notice``: it is sent without a person), which is never left out.

    When the whole text does not fit, the incident's text is cut after the most words that fit (ending in "…"),
    then left out; the incident's link and the reference are kept."""
    if change not in CHANGES:
        raise ValueError(f"unknown incident change {change!r} (use {' or '.join(CHANGES)})")
    values = {"name": name, "reference": reference, "desk": desk, "incident_title": incident.title,
              "incident_url": incident.url, "incident_change": change}

    def with_text(text: str) -> str:
        return stamped(render(template, **values, incident_text=text), channel, notice)

    text = with_text(incident.text)
    if fits(channel, text):
        return text
    words = incident.text.split()

    def cut(count: int) -> str:
        return " ".join(words[:count]).rstrip(_TRAILING) + _ELLIPSIS

    # The most leading words that fit, by bisection: one more word never makes the text shorter.
    low, high = 0, len(words) - 1
    while low < high:
        middle = (low + high + 1) // 2
        if fits(channel, with_text(cut(middle))):
            low = middle
        else:
            high = middle - 1
    if low and cut(low) != _ELLIPSIS:
        return with_text(cut(low))
    text = with_text("")
    if fits(channel, text):
        return text
    # Last resort, for a template too long for X whatever the incident says: cut the prose, keep link and reference.
    tail = " ".join(part for part in (incident.url, f"(ref {reference})", notice) if part)
    prose = _URL.sub("", render(template, **{**values, "incident_url": ""}, incident_text="")).strip()
    budget = limit(channel) - length(channel, tail) - 2
    while prose and length(channel, f"{prose}{_ELLIPSIS} {tail}") > limit(channel):
        prose = prose[: max(0, min(len(prose) - 1, budget))].rstrip()
    return f"{prose.rstrip()}{_ELLIPSIS} {tail}"
