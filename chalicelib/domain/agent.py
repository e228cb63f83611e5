"""Agents and what they may send: who an agent is (teams and role come from their sign-in identity, never from a
request), and each channel's length limit for a reply, counted the way the platform counts it."""
from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.domain.textlength import (
    BLUESKY_LIMIT,
    MASTODON_LIMIT,
    MASTODON_MENTION_RESERVE,
    X_LIMIT,
    bluesky_fits,
    post_length,
)

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
#: (channel, private) → the longest reply the platform accepts, in the platform's own count.
_LIMITS: dict[tuple[str, bool], int] = {
    ("x", False): X_LIMIT,  # a post (weighted count)
    ("x", True): 10_000,  # a direct message
    ("facebook", False): 8_000,  # a comment reply
    ("facebook", True): 2_000,  # a private reply opens Messenger
    ("messenger", False): 2_000,
    ("messenger", True): 2_000,
    ("instagram", False): 2_200,  # a comment reply
    ("instagram", True): 1_000,  # a direct message
    ("email", True): 20_000,
    ("email", False): 20_000,
    ("form", True): 20_000,  # answered by e-mail
    ("form", False): 20_000,
    ("bluesky", False): BLUESKY_LIMIT,  # a reply post, in graphemes (a link counts in full)
    ("bluesky", True): BLUESKY_LIMIT,  # (Bluesky mentions are public: there is no private reply)
    ("mastodon", False): MASTODON_LIMIT,  # a reply status (links 23, the customer's @mention included)
    ("mastodon", True): MASTODON_LIMIT,  # a direct-visibility reply, counted the same way
}


def reply_limit(channel: str, private: bool) -> int:
    return _LIMITS.get((channel, private), 2_000)


def reply_length(channel: str, private: bool, text: str) -> int:
    """How long the platform counts ``text`` (X posts: weighted, URLs as 23; Bluesky: graphemes; Mastodon: URLs as 23
    plus the customer's @mention the reply starts with; elsewhere: characters)."""
    if channel == "x" and private:
        return len(text)  # a direct message: plain characters
    return post_length(channel, text)


def reply_problem(channel: str, private: bool, text: str) -> str | None:
    """Why this reply cannot be sent as written, or None."""
    if not text.strip():
        return "the reply is empty"
    length, limit = reply_length(channel, private, text), reply_limit(channel, private)
    if channel == "bluesky" and length <= limit and not bluesky_fits(text):
        return "the reply is longer than the 3,000 bytes a Bluesky post allows"
    if length > limit:
        where = {"x": "an X post" if not private else "an X direct message", "bluesky": "a Bluesky post",
                 "mastodon": "a Mastodon post"}.get(channel, f"{channel}")
        counted = {"x": " (links count as 23, emoji as 2)" if not private else "",
                   "bluesky": " (graphemes: an emoji or an accented letter is 1, a link counts in full)",
                   "mastodon": f" (links count as 23, plus up to {MASTODON_MENTION_RESERVE} for the customer's "
                               "@mention)"}.get(channel, "")
        unit = "graphemes" if channel == "bluesky" else "characters"
        return f"the reply is {length} {unit}{counted}; {where} allows {limit}"
    return None
