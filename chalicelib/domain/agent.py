"""Agents and what they may send: who an agent is (teams and role come from their sign-in identity, never from a
request), and each channel's length limit for a reply, counted the way the platform counts it."""
from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.domain.channel_profiles import profile

#: The sign-in group that makes an agent a lead (oversight, and acting on any ticket of their teams' desks).
LEADS_GROUP = "leads"


@dataclass(frozen=True)
class Agent:
    username: str
    name: str = ""
    teams: tuple[str, ...] = field(default_factory=tuple)
    lead: bool = False

    @property
    def display(self) -> str:
        return self.name or self.username


# ------------------------------------------------------------------------------------------------ reply limits
#: The longest reply on a channel that has no profile (``domain.channel_profiles``).
UNKNOWN_CHANNEL_LIMIT = 2_000


def reply_limit(channel: str, private: bool) -> int:
    """The longest reply the platform accepts, in the platform's own count (``domain.channel_profiles``)."""
    found = profile(channel)
    return found.reply(private).limit if found is not None else UNKNOWN_CHANNEL_LIMIT


def reply_length(channel: str, private: bool, text: str) -> int:
    """How long the platform counts ``text`` (X posts: weighted, URLs as 23; an X direct message: characters;
    Bluesky: graphemes; Mastodon: URLs as 23 plus the customer's @mention the reply starts with; elsewhere:
    characters)."""
    found = profile(channel)
    return found.reply(private).length(text) if found is not None else len(text)


def reply_problem(channel: str, private: bool, text: str) -> str | None:
    """Why this reply cannot be sent as written, or None."""
    if not text.strip():
        return "the reply is empty"
    length, limit = reply_length(channel, private, text), reply_limit(channel, private)
    found = profile(channel)
    form = found.reply(private) if found is not None else None
    if form is not None and form.max_bytes is not None and length <= limit \
            and len(text.encode("utf-8", "surrogatepass")) > form.max_bytes:
        return f"the reply is longer than the {form.max_bytes:,} bytes {form.what} allows"
    if length > limit:
        where, counted = (form.what, form.counted) if form is not None else (channel, "")
        unit = form.unit if form is not None else "characters"
        return f"the reply is {length} {unit}{counted}; {where} allows {limit}"
    return None
