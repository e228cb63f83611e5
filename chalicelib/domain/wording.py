"""How customers are told when the team is back and how long they will wait: one wording for every text.

The acknowledgement ("We're offline now, back at 07:00 tomorrow GMT (in about 8 hours)") and the status page it
links to ("After we open at Monday 07:00 GMT", "Within about 8 hours") word the same instant and the same wait by
the same rules, so the two never disagree:

* a wait is rounded **up**, never down: 6 h 50 min is "about 7 hours", so a customer is never promised an answer
  sooner than the data says. Under an hour it is counted in minutes (to the next 5 above 10 minutes), under two
  days in hours, then in days;
* an opening time is shown in the brand's time zone with its abbreviation (GMT, BST) on a 24-hour clock; its
  day is named by the weekday, and the date is added when it is six days or more away (when the weekday alone
  could be taken for this week's).

:func:`opening` has two styles for the two kinds of sentence. ``"label"`` ("Monday 07:00 GMT") stands on its own,
after "opens at". ``"phrase"`` ("at 07:00 tomorrow GMT", "on Monday at 07:00 GMT") follows "back" in a message,
and only it says "today" and "tomorrow": a message is read when it arrives, whereas a page's labels also describe
past events (the timeline's "team offline, opens at …") and are read days later.
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

__all__ = ["DATE_FROM_DAYS", "Style", "opening", "wait"]

#: An opening this many days ahead or more is named with its date, not by its weekday alone.
DATE_FROM_DAYS = 6

Style = Literal["label", "phrase"]


def wait(delta: timedelta) -> str:
    """'about a minute', 'about 25 minutes', 'about an hour', 'about 7 hours', 'about 3 days': rounded up,
    never zero (a wait already over reads as 'about a minute')."""
    minutes = max(1, math.ceil(delta.total_seconds() / 60))
    if 10 < minutes < 60:
        minutes = math.ceil(minutes / 5) * 5
    if minutes == 1:
        return "about a minute"
    if minutes < 60:
        return f"about {minutes} minutes"
    hours = math.ceil(minutes / 60)
    if hours == 1:
        return "about an hour"
    if hours < 48:
        return f"about {hours} hours"
    return f"about {math.ceil(hours / 24)} days"


#: The phrase style in the other languages the brand file writes acknowledgements in: weekdays and months (Monday
#: first), today, tomorrow, and how a day and a time are joined. A language without an entry is worded in English.
_PHRASES: dict[str, tuple[tuple[str, ...], tuple[str, ...], str, str, str, str]] = {
    "fr": (("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
           ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
            "novembre", "décembre"), "à {clock} aujourd'hui", "à {clock} demain", "{day} à {clock}", "({zone})"),
    "cy": (("Llun", "Mawrth", "Mercher", "Iau", "Gwener", "Sadwrn", "Sul"),
           ("Ionawr", "Chwefror", "Mawrth", "Ebrill", "Mai", "Mehefin", "Gorffennaf", "Awst", "Medi", "Hydref",
            "Tachwedd", "Rhagfyr"), "am {clock} heddiw", "am {clock} yfory", "ddydd {day} am {clock}", "({zone})"),
}


def opening(at: datetime, now: datetime, zone: str | ZoneInfo, *, style: Style = "label", language: str = "en"
            ) -> str:
    """When ``at`` is, seen from ``now``, in ``zone`` (an IANA name or a ZoneInfo).

    ``style="label"``: 'Sunday 09:00 GMT', 'Tuesday 29 December 07:00 GMT'.
    ``style="phrase"``: 'at 09:00 today GMT', 'at 07:00 tomorrow GMT', 'on Monday at 07:00 BST',
    'on Tuesday 29 December at 07:00 GMT'.
    """
    tz = ZoneInfo(zone) if isinstance(zone, str) else zone
    local = at.astimezone(tz)
    days = (local.date() - now.astimezone(tz).date()).days
    clock = f"{local:%H:%M}"
    if style == "phrase" and language in _PHRASES:
        weekdays, months, today, tomorrow, on_day, zone_name = _PHRASES[language]
        weekday = weekdays[local.weekday()]
        named = f"{weekday} {local.day} {months[local.month - 1]}" if days >= DATE_FROM_DAYS else weekday
        when = today if days == 0 else tomorrow if days == 1 else on_day.replace("{day}", named)
        return f"{when.replace('{clock}', clock)} {zone_name.replace('{zone}', f'{local:%Z}')}".strip()
    day = f"{local:%A} {local.day} {local:%B}" if days >= DATE_FROM_DAYS else f"{local:%A}"
    if style == "label":
        when = f"{day} {clock}"
    elif days == 0:
        when = f"at {clock} today"
    elif days == 1:
        when = f"at {clock} tomorrow"
    else:
        when = f"on {day} at {clock}"
    return f"{when} {local:%Z}".strip()
