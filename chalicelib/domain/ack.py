"""What an acknowledgement says: rendered from the config's templates, sized for its channel.

Templates render through :mod:`chalicelib.domain.templates` (the one template environment); the time the team
is back and the wait are worded by :mod:`chalicelib.domain.wording`, as on the status page the text links to.
"""
from __future__ import annotations

import re
from datetime import datetime

from chalicelib.domain import wording
from chalicelib.domain.incident import Incident
from chalicelib.domain.templates import render

__all__ = ["X_LIMIT", "X_URL_LENGTH", "Incident", "compose", "fits", "render", "x_length"]

X_LIMIT = 280
X_URL_LENGTH = 23
_URL = re.compile(r"https?://\S+")


def x_length(text: str) -> int:
    """Characters as X counts them: every URL is 23 (t.co)."""
    return len(_URL.sub("x" * X_URL_LENGTH, text))


def fits(channel: str, text: str) -> bool:
    return x_length(text) <= X_LIMIT if channel == "x" else len(text) <= 8000


def compose(template: str, *, channel: str, name: str, reference: str, status_url: str, now: datetime,
            back_at: datetime | None, tz: str, desk: str, incident: Incident | None = None,
            dm_invite: str = "", expected_wait: str = "") -> str:
    """Render an acknowledgement; on X drop the optional parts (invite, then incident text) until it fits.

    ``back_at`` is worded as in ``"back at 07:00 tomorrow GMT"`` and ``back_in`` as in ``"(in about 8 hours)"``;
    ``expected_wait`` (the busy acknowledgement, ``domain.busy``) as in ``"about 40–60 minutes"``."""
    base = {
        "name": name, "reference": reference, "status_url": status_url, "desk": desk, "expected_wait": expected_wait,
        "back_at": wording.opening(back_at, now, tz, style="phrase") if back_at else "",
        "back_in": wording.wait(back_at - now) if back_at else "",
    }
    title = incident.title if incident else ""
    attempts = [
        {"incident_title": title, "incident_url": incident.url if incident else "", "dm_invite": dm_invite},
        {"incident_title": title, "incident_url": incident.url if incident else "", "dm_invite": ""},
        {"incident_title": title, "incident_url": "", "dm_invite": ""},
        {"incident_title": "", "incident_url": "", "dm_invite": ""},
        {"incident_title": "", "incident_url": "", "dm_invite": "", "name": ""},
    ]
    text = ""
    for extra in attempts:
        text = render(template, **{**base, **extra})
        if fits(channel, text):
            return text
    # last resort: keep the link and reference, cut the prose
    budget = X_LIMIT - X_URL_LENGTH - 1
    prose = _URL.sub("", text).strip()
    return f"{prose[: budget - 1].rstrip()}… {status_url}" if channel == "x" else text
