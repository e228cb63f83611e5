"""What an acknowledgement says: rendered from the config's templates, sized for its channel.

Templates render through :mod:`chalicelib.domain.templates` (the one template environment); the time the team
is back and the wait are worded by :mod:`chalicelib.domain.wording`, as on the status page the text links to.
An acknowledgement can invite the customer to continue in private and say what to send (``ask_for``: the
reference the desk needs, configured per desk, never personal data), and carry a matching incident's title,
explanation and link; on X it is cut to 280 characters (links count 23) the way incident follow-ups are
(:mod:`chalicelib.domain.followup`): the explanation at a word, never the reference or the status link.
"""
from __future__ import annotations

import re
from datetime import datetime

from chalicelib.domain import wording
from chalicelib.domain.channel_profiles import LONG_ACK_LIMIT, profile
from chalicelib.domain.channel_profiles import post_length as length
from chalicelib.domain.incident import Incident
from chalicelib.domain.templates import render
from chalicelib.domain.textlength import X_LIMIT, X_URL_LENGTH, x_length

__all__ = ["X_LIMIT", "X_URL_LENGTH", "Incident", "compose", "fits", "length", "limit", "render", "stamped",
           "without_urls", "x_length"]

_URL = re.compile(r"https?://\S+")
_ELLIPSIS = "…"
_TRAILING = ".,;:!?-–— "


def without_urls(text: str) -> str:
    """``text`` with its URLs left out (a reply that may carry no link: ``links.no_url_in_public``)."""
    return " ".join(_URL.sub("", text).split())


def sentence(text: str) -> str:
    """``text`` ending as a sentence does (a full stop added unless it ends in one, a ? or !, or a closing quote or
    bracket after one); empty stays empty."""
    text = text.strip()
    if not text or text[-1] in ".!?…" or (len(text) > 1 and text[-1] in "\"')»”’" and text[-2] in ".!?"):
        return text
    return text + "."


def limit(channel: str) -> int:
    """The longest acknowledgement for ``channel`` (``domain.channel_profiles``), as its public posts count."""
    found = profile(channel)
    return found.ack_limit if found is not None else LONG_ACK_LIMIT


def fits(channel: str, text: str) -> bool:
    found = profile(channel)
    max_bytes = found.public.max_bytes if found is not None else None
    if max_bytes is not None and len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        return False
    return length(channel, text) <= limit(channel)


def compose(template: str, *, channel: str, name: str, reference: str, status_url: str, now: datetime,
            back_at: datetime | None, tz: str, desk: str, incident: Incident | None = None,
            dm_invite: str = "", expected_wait: str = "", ask_for: str = "", language: str = "en",
            notice: str = "") -> str:
    """Render an acknowledgement; on X leave out the optional parts, in this order, until it fits: the invitation
    to continue in private with what the desk needs (``ask_for``), the incident's explanation (first cut at a word,
    ending in "…", then left out), the warning about personal data (``dm_invite``), the incident's link, its
    title, the customer's name. The reference and the status link are never left out.

    ``back_at`` is worded as in ``"back at 07:00 tomorrow GMT"`` (in ``language``, the template's, where
    ``domain.wording`` has its words: "revient à 07:00 demain (GMT)") and ``back_in`` as in ``"(in about 8 hours)"``;
    ``expected_wait`` (the busy acknowledgement, ``domain.busy``) as in ``"about 40–60 minutes"``; ``ask_for`` (the
    desk's ``ask_for`` in the brand file) as in ``"your booking reference and the train (time and stations)"``.
    ``notice`` (the brand's ``automated_notice``, as in ``"(automated reply)"``) ends the text and is never left out:
    every text composed here is sent without a person."""
    title, explanation = (incident.title, incident.text) if incident else ("", "")
    base = {
        "name": name, "reference": reference, "status_url": status_url, "desk": desk, "expected_wait": expected_wait,
        "back_at": wording.opening(back_at, now, tz, style="phrase", language=language) if back_at else "",
        "back_in": wording.wait(back_at - now) if back_at else "",
        # the incident notice reads as sentences, whatever the next line of the template says
        "incident_title": title if explanation else sentence(title), "incident_url": incident.url if incident else "",
        "incident_text": sentence(explanation), "dm_invite": dm_invite, "ask_for": ask_for,
    }

    def attempt(**changes: str) -> str:
        base.update(changes)
        return stamped(render(template, **base), channel, notice)

    text = attempt()
    if fits(channel, text):
        return text
    text = attempt(ask_for="")
    if fits(channel, text):
        return text
    words = base["incident_text"].split()
    if words:
        def cut(count: int) -> str:
            return " ".join(words[:count]).rstrip(_TRAILING) + _ELLIPSIS

        # the most leading words that fit, by bisection: one more word never makes the text shorter
        low, high = 0, len(words) - 1
        while low < high:
            middle = (low + high + 1) // 2
            if fits(channel, stamped(render(template, **{**base, "incident_text": cut(middle)}), channel, notice)):
                low = middle
            else:
                high = middle - 1
        if low and cut(low) != _ELLIPSIS:
            return attempt(incident_text=cut(low))
    for change in ({"incident_text": "", "incident_title": sentence(title)}, {"dm_invite": ""}, {"incident_url": ""},
                   {"incident_title": ""},
                   {"name": ""}):
        text = attempt(**change)
        if fits(channel, text):
            return text
    # last resort, for a template too long for the channel whatever it is given: keep the link, cut the prose
    if limit(channel) >= 8000:
        return text
    prose = _URL.sub("", text[: len(text) - len(notice)] if notice else text).strip()
    tail = f" {notice}" if notice else ""
    budget = limit(channel) - length(channel, status_url + tail) - 2
    while prose and length(channel, f"{prose}{_ELLIPSIS} {status_url}{tail}") > limit(channel):
        prose = prose[: max(0, min(len(prose) - 1, budget))].rstrip()
    return f"{prose}{_ELLIPSIS} {status_url}".rstrip() + tail


def stamped(text: str, channel: str, notice: str) -> str:
    """``text`` ending with the automated notice: on a line of its own where a text is long (e-mail, the form,
    Meta's messages), after a space in a short public post."""
    if not notice:
        return text
    return f"{text}\n\n{notice}" if limit(channel) >= LONG_ACK_LIMIT else f"{text} {notice}"
