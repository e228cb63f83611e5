"""Listening: posts about the brand that do not tag its account (ADR 0032). Pure: what a post must name to be
listened to (``matched_terms``), the places it names (``places_named``), the searches each platform is asked
(``x_query``, ``hashtags``, ``search_terms``), what a listened post carries (``LISTENING``: the mention's
``extra``), and when posts about one place make a burst (``burst_at``).

A listened post is never acknowledged automatically: an unasked bot reply to someone who did not tag the brand is
intrusive. It becomes a ticket marked "not addressed to us" (the ``listening`` flag) for a person to answer, link or
dismiss."""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from functools import lru_cache

from chalicelib.domain.config.listening import Listening

#: The key of a listened post's mention ``extra``: ``{"terms": [...], "source": "x-search" | "bluesky-search" |
#: "mastodon-tag"}``. A mention without it was addressed to the brand.
LISTENING = "listening"
#: The ticket flag of a case opened by a listened post, until its customer addresses the brand.
FLAG = "listening"
#: What agents read for the flag.
FLAG_TEXT = "not addressed to us"
#: X's recent search takes a query of at most 512 characters (pay-per-use and Basic access).
X_QUERY_MAX = 512


@lru_cache(maxsize=512)
def _pattern(term: str) -> re.Pattern[str]:
    """A term as whole words, case-insensitive; ``#tag`` is the hashtag; a plain one-word term also matches its
    hashtag and a run-together spelling of a multi-word term ("Meridian Rail" → "meridianrail", "#MeridianRail")."""
    if term.startswith("#"):
        return re.compile(rf"(?<![\w#]){re.escape(term)}(?!\w)", re.IGNORECASE)
    words = term.split()
    spaced = r"[\s\-_]*".join(re.escape(w) for w in words)
    return re.compile(rf"(?<![\w]){spaced}(?!\w)", re.IGNORECASE)


def _named(terms: Sequence[str], text: str) -> tuple[str, ...]:
    return tuple(term for term in terms if _pattern(term).search(text))


def matched_terms(watch: Listening, text: str) -> tuple[str, ...]:
    """The brand's terms ``text`` names (in the file's order), or () when it names none or names an exclusion."""
    if not watch.enabled or _named(watch.exclude, text):
        return ()
    return _named(watch.terms, text)


def places_named(places: Sequence[str], text: str, *, any_case: bool = False) -> tuple[str, ...]:
    """The places (stations, lines, services) ``text`` names, in the file's order. Many place names are words too
    ("Reading", "Bath"): in a text written with capitals, a place counts only where it starts with one ("stuck at
    Reading", not "reading the timetable"); a text written all in lower case is taken at its word. ``any_case``:
    any spelling counts (an incident's keywords, stored in lower case)."""
    loose = any_case or not any(c.isupper() for c in text)
    return tuple(place for place in places
                 if any(loose or m.group(0)[:1].isupper() for m in _pattern(place).finditer(text)))


def listened(extra: Mapping[str, object]) -> bool:
    """Whether a mention came from listening (a post that did not tag the brand)."""
    return isinstance(extra.get(LISTENING), Mapping)


def listening_extra(terms: Sequence[str], source: str) -> dict[str, object]:
    """What a listened post's mention carries in ``extra`` (``tagged`` False: it names the brand without tagging)."""
    return {LISTENING: {"terms": list(terms), "source": source}, "tagged": False}


def _quoted(term: str) -> str:
    return term if term.startswith("#") or " " not in term else f'"{term}"'


def x_query(watch: Listening, brand_handle: str) -> str:
    """The recent-search query: any term, none of the exclusions, not the brand's own posts, no retweets, and not
    the posts that tag the brand (those come as mentions, once). Terms are dropped from the end, with exclusions
    first, until it fits X's 512 characters."""
    handle = brand_handle.lstrip("@")
    tail = ["-is:retweet"] + ([f"-from:{handle}", f"-@{handle}"] if handle else [])
    terms, exclude = list(watch.terms), list(watch.exclude)
    while True:
        query = " ".join([f"({' OR '.join(_quoted(t) for t in terms)})" if len(terms) > 1 else _quoted(terms[0])]
                         + [f"-{_quoted(t)}" for t in exclude] + tail)
        if len(query) <= X_QUERY_MAX or (len(terms) <= 1 and not exclude):
            return query[:X_QUERY_MAX]
        if exclude:
            exclude.pop()
        else:
            terms.pop()


def hashtags(watch: Listening) -> tuple[str, ...]:
    """The hashtags to follow on Mastodon (without the #, lowercase): the ``#`` terms, and one-word terms as tags."""
    tags: list[str] = []
    for term in watch.terms:
        tag = term[1:] if term.startswith("#") else "".join(term.split())
        tag = tag.lower()
        if tag.replace("_", "").isalnum() and tag not in tags:
            tags.append(tag)
    return tuple(tags)


def search_terms(watch: Listening) -> tuple[str, ...]:
    """What Bluesky's post search is asked, one query per term (multi-word terms as a phrase)."""
    return tuple(_quoted(term) for term in watch.terms)


def tags_brand(text: str, brand_handles: Sequence[str]) -> bool:
    """Whether ``text`` tags one of the brand's handles (``@MeridianRail``, ``@meridianrail.bsky.social``): such a
    post reaches the brand as a mention, and listening leaves it to that route."""
    for handle in brand_handles:
        handle = handle.lstrip("@")
        if handle and re.search(rf"(?<![\w@])@{re.escape(handle)}(?![\w.])", text, re.IGNORECASE):
            return True
    return False


def burst_at(times: Sequence[datetime], at: datetime, *, posts: int, minutes: int) -> bool:
    """Whether ``posts`` of ``times`` (the posts naming one place) fall within the ``minutes`` that end at ``at``."""
    since = at - timedelta(minutes=minutes)
    return sum(1 for t in times if since <= t <= at) >= posts


#: Where each listening source searches, as agents read it.
SOURCE_NAMES = {"x-search": "X", "bluesky-search": "Bluesky", "mastodon-tag": "Mastodon"}
#: What an agent is told before answering a listened post on X, and when X refuses the reply: X's API lets an
#: account reply only to posts whose author mentioned or quoted it.
X_REPLY_RULE = "X lets the brand's account reply only to people who mention it: answer from X's own app, or send a DM"


def found_by(extra: Mapping[str, object], channel: str = "") -> str:
    """How a listened post was found, for agents: "found by listening on X for 'Meridian Rail'" ('' for a mention
    that was addressed to the brand)."""
    heard = extra.get(LISTENING)
    if not isinstance(heard, Mapping):
        return ""
    source = heard.get("source")
    where = SOURCE_NAMES.get(source, "") if isinstance(source, str) else ""
    where = where or SOURCE_NAMES.get(f"{channel}-search", channel)
    terms = heard.get("terms")
    named = [t for t in terms if isinstance(t, str)] if isinstance(terms, list | tuple) else []
    said = f"found by listening on {where}" if where else "found by listening"
    return f"{said} for {' and '.join(repr(t) for t in named)}" if named else said
