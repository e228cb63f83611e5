"""The words of a customer's message as the word search indexes them, and of an agent's query as it looks them up
(docs/adr/0026-word-search.md). Pure: no I/O.

A word is folded so that what an agent types finds what a customer wrote: casefolded, accents folded (``Gare de
l'Est`` and ``gare de l'est``, ``Llandŵ`` and ``llandw``), apostrophes and hyphens split (``Stoke-on-Trent``:
``stoke``, ``trent``; the query is read the same way), stop words of the message's language left out (small lists
for English, French and Welsh; English for any other language). What else a message holds:

- a link (``https://t.co/…``) is left out: it says nothing an agent would type;
- a handle (``@MeridianRail``, ``@pat``) is left out: every public message carries the brand's, and a customer is
  found by their handle through the identity search already;
- a hashtag is its word (``#delays``: ``delays``);
- a booking reference or any word with digits is kept whole (``ABC123XY``: ``abc123xy``; ``2C``: ``2c``); a
  number on its own only from three digits (a train or a platform count is noise, ``1745`` or a price is not);
  a time is kept as written (``17:45``).

At most ``MAX_WORDS`` distinct words a message, those with digits (references) first, then in the order written.
"""
from __future__ import annotations

import re
import unicodedata

#: The most words indexed for one message: with the ticket's list of written words, one BatchWriteItem (25 items).
MAX_WORDS = 24

#: The most words of a query that are looked up (one query of the index each).
MAX_QUERY_WORDS = 5

#: A word longer than this is not a word (a token, an encoded blob).
MAX_LENGTH = 40

_LINK = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_HANDLE = re.compile(r"(?<![\w@])@[\w.]+(?:@[\w.-]+)?")  # @pat, @pat.bsky.social, @pat@mastodon.social
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_TIME = re.compile(r"\b([01]?\d|2[0-3])[:h]([0-5]\d)\b")
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


def fold(text: str) -> str:
    """Casefolded, accents and other marks removed (NFKD, combining marks dropped)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _list(words: str) -> frozenset[str]:
    return frozenset(fold(words).split())


_EN = _list("""
a about above after again all also am an and any are aren as at be because been before being below between both
but by can cannot could couldn did didn do does doesn doing don down during each few for from further get got had
hadn has hasn have haven having he her here hers herself him himself his how i if im in into is isn it its itself
ive just let ll me more most my myself no nor not now of off on once only or other our ours ourselves out over own
re same she should shouldn so some such than that thats the their theirs them themselves then there these they
this those through to too under until up us ve very was wasn we were weren what when where which while who whom
why will with won would wouldn you your yours yourself yourselves please hi hello thanks thank yes ok
""")

_FR = _list("""
a ai au aux avec avez avons ce ces cet cette c ça d dans de des du elle elles en est et été être eu il ils j je l
la le les leur leurs lui m ma mais me même mes moi mon n ne nos notre nous on ont ou où par pas pour qu que qui s
sa sans se ses si son sont sur t ta te tes toi ton tu un une vos votre vous y bonjour merci svp oui non
""")

_CY = _list("""
a ac am ar at beth bod i mae na nad neu o oedd on os oes pan pe rhy roedd sy sydd y yn yr ym ei eu fy dy ein eich
ni chi nhw fe fo hi ef ydy ydw ydi gyda heb dros wedi wrth hefyd diolch helo
""")

STOP_WORDS: dict[str, frozenset[str]] = {"en": _EN, "fr": _FR, "cy": _CY}
_ALL_STOP_WORDS = _EN | _FR | _CY


def _stop_words(language: str | None) -> frozenset[str]:
    if language is None:
        return frozenset()
    return STOP_WORDS.get(language.split("-")[0].lower(), _EN)


def _tokens(text: str) -> list[str]:
    """Every candidate word of ``text`` in order, folded, links, handles and addresses out, times kept whole."""
    text = _LINK.sub(" ", text)
    text = _EMAIL.sub(" ", text)
    text = _HANDLE.sub(" ", text)
    found: list[str] = []
    position = 0
    for time in _TIME.finditer(text):
        found += _TOKEN.findall(fold(text[position:time.start()]))
        found.append(f"{int(time.group(1)):02d}:{time.group(2)}")
        position = time.end()
    found += _TOKEN.findall(fold(text[position:]))
    return found


def _keep(token: str, stop: frozenset[str]) -> bool:
    if len(token) > MAX_LENGTH or token in stop:
        return False
    if token.isdigit():
        return len(token) >= 3
    return len(token) >= 2


def message_words(text: str, language: str | None = "en", *, limit: int | None = MAX_WORDS) -> list[str]:
    """The distinct words of a message to index: references first, then in the order written, at most ``limit``.
    ``language`` picks the stop words (None: none left out, every word the message could have been indexed with in
    any language, as the erasure needs)."""
    stop = _stop_words(language)
    distinct = list(dict.fromkeys(t for t in _tokens(text) if _keep(t, stop)))
    ordered = [w for w in distinct if any(c.isdigit() for c in w)] + [
        w for w in distinct if not any(c.isdigit() for c in w)]
    return ordered if limit is None else ordered[:limit]


def query_words(query: str) -> list[str]:
    """The words an agent's query looks up: folded as messages are, stop words of every language out unless the
    query is nothing else (the message may be of a language where that word is no stop word), at most
    ``MAX_QUERY_WORDS``, longest (the likely rarest) first."""
    words = list(dict.fromkeys(t for t in _tokens(query) if _keep(t, frozenset())))
    meaningful = [w for w in words if w not in _ALL_STOP_WORDS] or words
    return sorted(meaningful, key=lambda w: (-any(c.isdigit() for c in w), -len(w)))[:MAX_QUERY_WORDS]
