"""What an acknowledgement says: rendered from the config's templates, sized for its channel."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from jinja2.sandbox import SandboxedEnvironment

X_LIMIT = 280
X_URL_LENGTH = 23
_URL = re.compile(r"https?://\S+")
_env = SandboxedEnvironment(autoescape=False, trim_blocks=True, lstrip_blocks=True)


@dataclass(frozen=True)
class Incident:
    incident_id: str
    title: str
    text: str = ""
    url: str = ""


def x_length(text: str) -> int:
    """Characters as X counts them: every URL is 23 (t.co)."""
    return len(_URL.sub("x" * X_URL_LENGTH, text))


def fits(channel: str, text: str) -> bool:
    return x_length(text) <= X_LIMIT if channel == "x" else len(text) <= 8000


def humanize_wait(now: datetime, then: datetime) -> str:
    """'45 minutes', '7 hours', '3 days' (templates say "in {{ back_in }}")."""
    minutes = max(1, round((then - now).total_seconds() / 60))
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = round(minutes / 60)
    if hours < 36:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{round(hours / 24)} days"


def format_back_at(now: datetime, then: datetime, tz: str) -> str:
    """'at 07:00 today GMT', 'at 07:00 tomorrow GMT' or 'on Mon 28 Dec at 07:00 GMT', in the given time zone."""
    zone = ZoneInfo(tz)
    local_now, local_then = now.astimezone(zone), then.astimezone(zone)
    clock = local_then.strftime("%H:%M")
    abbrev = local_then.strftime("%Z")
    days = (local_then.date() - local_now.date()).days
    if days == 0:
        when = f"at {clock} today"
    elif days == 1:
        when = f"at {clock} tomorrow"
    else:
        when = f"on {local_then:%a} {local_then.day} {local_then:%b} at {clock}"
    return f"{when} {abbrev}".strip()


def render(template: str, **values) -> str:
    text = _env.from_string(template).render(**values)
    return re.sub(r"[ \t]+", " ", re.sub(r"\n{3,}", "\n\n", text)).strip()


def compose(template: str, *, channel: str, name: str, reference: str, status_url: str, now: datetime,
            back_at: datetime | None, tz: str, desk: str, incident: Incident | None = None,
            dm_invite: str = "") -> str:
    """Render an acknowledgement; on X drop the optional parts (invite, then incident text) until it fits."""
    base = {
        "name": name, "reference": reference, "status_url": status_url, "desk": desk,
        "back_at": format_back_at(now, back_at, tz) if back_at else "",
        "back_in": humanize_wait(now, back_at) if back_at else "",
    }
    attempts = [
        {"incident_title": incident.title if incident else "", "incident_url": incident.url if incident else "",
         "dm_invite": dm_invite},
        {"incident_title": incident.title if incident else "", "incident_url": incident.url if incident else "",
         "dm_invite": ""},
        {"incident_title": incident.title if incident else "", "incident_url": "", "dm_invite": ""},
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
