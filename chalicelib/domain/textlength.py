"""How X, Bluesky, Mastodon and Threads count the length of a post, so a reply is sized before it is queued.

- **X** counts a URL as 23 characters whatever its length (t.co) and weighs characters outside its light code
  point ranges (CJK, emoji…) as 2 (twitter-text v3 configuration); a post allows 280.

- **Bluesky** counts *graphemes* (what a reader sees as one character: "é" written as e + accent, a flag, a family
  emoji joined with zero-width joiners are each one) and allows 300; a link counts with its whole text (there is
  no link shortener), and the record also has a 3,000-byte cap.
- **Mastodon** counts characters, every URL as 23 and a mention ``@user@instance`` as ``@user``, and allows 500 (an
  instance may allow more; 500 is the default). A reply names the customer (``@acct``, added when the text does not
  already): without it, Mastodon neither notifies them nor shows them a direct reply. ``MASTODON_MENTION_RESERVE``
  is what that mention may take (a username is at most 30 characters).
- **Threads** counts characters and allows 500, but an emoji counts as its UTF-8 bytes (4 for most, more for a
  sequence joined or modified); a link counts in full. WhatsApp (4,096) and the others count plain characters.

The grapheme count follows the extended grapheme cluster rules of Unicode (UAX #29) that occur in real text:
combining marks and spacing marks, zero-width joiner emoji sequences, emoji modifiers and variation selectors, flag
pairs, Indic conjuncts, Hangul syllable sequences, prepended signs, controls and CR LF; it needs no library
(tests/unit/test_bluesky_mastodon.py compares it with the ``regex`` module's grapheme clusters).
"""
from __future__ import annotations

import re
import unicodedata

from chalicelib.domain.vocabulary import Counting

X_LIMIT = 280  # a post, in X's weighted count
X_URL_LENGTH = 23
_X_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
_X_URL = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"]+|\b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:com|org|net|io|"
                    r"co|uk|app|dev|info|me|ly|gov|edu)(?:/[^\s<>\"]*)?")
BLUESKY_LIMIT = 300
BLUESKY_MAX_BYTES = 3000
MASTODON_LIMIT = 500
MASTODON_URL_LENGTH = 23
#: ``@`` + a username of up to 30 characters + a space.
MASTODON_MENTION_RESERVE = 32
THREADS_LIMIT = 500
WHATSAPP_LIMIT = 4096  # a text message's body (Cloud API, "Text messages")

_URL = re.compile(r"(?i)\bhttps?://[^\s<>\"]+")
_MASTODON_MENTION = re.compile(r"(?<![\w/])@(\w{1,64})@[\w.-]+\w")

_ZWJ = 0x200D
_ZWNJ = 0x200C
#: Indic viramas that join the consonants around them into one conjunct (Unicode 15.1, rule GB9c), by script block.
_LINKERS = {0x094D: (0x0900, 0x097F), 0x09CD: (0x0980, 0x09FF), 0x0ACD: (0x0A80, 0x0AFF),
            0x0B4D: (0x0B00, 0x0B7F), 0x0C4D: (0x0C00, 0x0C7F), 0x0D4D: (0x0D00, 0x0D7F)}
#: Independent vowels of those scripts ("DEVANAGARI LETTER AA"): letters, but not consonants a conjunct joins.
_VOWELS = {"A", "AA", "I", "II", "U", "UU", "E", "AI", "O", "AU", "EE", "OO", "SHORT E", "SHORT O", "CANDRA E",
           "CANDRA O", "CANDRA A", "SHORT A", "UE", "UUE", "OE", "OOE", "AW", "VOCALIC R", "VOCALIC RR", "VOCALIC L",
           "VOCALIC LL"}


def has_link(text: str, channel: str) -> bool:
    """Whether the platform will see a link in ``text`` (on X, a bare domain is one: X links it, and prices it)."""
    return bool((_X_URL if channel == "x" else _URL).search(text or ""))


def _is_extend(cp: int, category: str) -> bool:
    """Joins the character before it (Grapheme_Cluster_Break Extend, ZWJ or SpacingMark)."""
    return (category in ("Mn", "Me", "Mc") or cp in (_ZWJ, _ZWNJ, 0x0E33, 0x0EB3) or 0xFE00 <= cp <= 0xFE0F
            or 0x1F3FB <= cp <= 0x1F3FF or 0xE0020 <= cp <= 0xE007F or 0xE0100 <= cp <= 0xE01EF)


#: Prepend: joins the character after it (Arabic number signs and a few Brahmic marks; rule GB9b).
_PREPEND = {*range(0x0600, 0x0606), 0x06DD, 0x070F, 0x0890, 0x0891, 0x08E2, 0x0D4E, 0x110BD, 0x110CD, 0x111C2,
            0x111C3, 0x1193F, 0x11941, 0x11A3A, *range(0x11A84, 0x11A8A), 0x11D46, 0x11F02}


def _is_control(cp: int, category: str) -> bool:
    return category in ("Cc", "Zl", "Zp") or (category == "Cf" and cp not in (_ZWJ, _ZWNJ) and cp not in _PREPEND
                                               and not 0xE0020 <= cp <= 0xE007F)


def _is_pictographic(cp: int, category: str) -> bool:
    """Extended_Pictographic, near enough: the emoji blocks and the other symbols (So) emoji are built from."""
    return category == "So" or 0x1F000 <= cp <= 0x1FAFF or cp in (0xA9, 0xAE, 0x203C, 0x2049, 0x2122, 0x2139)


def _consonant_block(char: str) -> tuple[int, int] | None:
    """The script block of an Indic consonant (Indic_Conjunct_Break=Consonant), else None."""
    for low, high in _LINKERS.values():
        if low <= ord(char) <= high:
            name = unicodedata.name(char, "")
            letter = name.split(" LETTER ", 1)[1] if " LETTER " in name else ""
            return (low, high) if letter and letter not in _VOWELS else None
    return None


def _is_regional(cp: int) -> bool:
    return 0x1F1E6 <= cp <= 0x1F1FF


def _hangul(cp: int) -> str:
    if 0x1100 <= cp <= 0x115F or 0xA960 <= cp <= 0xA97C:
        return "L"
    if 0x1160 <= cp <= 0x11A7 or 0xD7B0 <= cp <= 0xD7C6:
        return "V"
    if 0x11A8 <= cp <= 0x11FF or 0xD7CB <= cp <= 0xD7FB:
        return "T"
    if 0xAC00 <= cp <= 0xD7A3:
        return "LV" if (cp - 0xAC00) % 28 == 0 else "LVT"
    return ""


def _joins_hangul(before: str, after: str) -> bool:
    return ((before == "L" and after in ("L", "V", "LV", "LVT")) or (before in ("LV", "V") and after in ("V", "T"))
            or (before in ("LVT", "T") and after == "T"))


def graphemes(text: str) -> int:
    """The number of user-perceived characters in ``text``."""
    count = 0
    previous = -1
    previous_control = False
    regional_run = 0
    pictographic = ""  # "pict": Extended_Pictographic Extend* so far; "zwj": … followed by a ZWJ (rule GB11)
    conjunct: tuple[int, int] | None = None  # the block of a consonant (Extend|Linker)* so far (rule GB9c)
    linked = False  # … and a linker (virama) since that consonant
    for char in text:
        cp = ord(char)
        category = unicodedata.category(char)
        control = _is_control(cp, category)
        block = _consonant_block(char)
        if previous < 0:
            joined = False
        elif previous == 0x0D and cp == 0x0A:
            joined = True
        elif previous_control or control:
            joined = False
        elif previous in _PREPEND or _is_extend(cp, category):
            joined = True
        elif pictographic == "zwj" and _is_pictographic(cp, category):
            joined = True  # an emoji ZWJ sequence (👩‍👩‍👧)
        elif linked and block is not None and block == conjunct:
            joined = True  # a conjunct (स्त)
        elif _is_regional(cp) and _is_regional(previous):
            joined = regional_run % 2 == 1  # flags pair regional indicators two by two
        else:
            joined = _joins_hangul(_hangul(previous), _hangul(cp))
        # the state the next character is judged by
        if _is_pictographic(cp, category) and not _is_extend(cp, category):
            pictographic = "pict"
        elif cp == _ZWJ and pictographic == "pict":
            pictographic = "zwj"
        elif not (_is_extend(cp, category) and pictographic == "pict"):
            pictographic = ""
        if block is not None:
            conjunct, linked = block, False
        elif conjunct is not None and cp in _LINKERS and conjunct == _LINKERS[cp]:
            linked = True
        elif not (conjunct is not None and _is_extend(cp, category) and cp != _ZWNJ):
            conjunct, linked = None, False
        regional_run = regional_run + 1 if _is_regional(cp) else 0
        if not joined:
            count += 1
        previous, previous_control = cp, control
    return count


def bluesky_length(text: str) -> int:
    return graphemes(text)


def bluesky_fits(text: str) -> bool:
    return graphemes(text) <= BLUESKY_LIMIT and len(text.encode("utf-8", "surrogatepass")) <= BLUESKY_MAX_BYTES


def mastodon_length(text: str) -> int:
    """Characters as Mastodon counts them: a URL is 23, ``@user@instance`` is ``@user``."""
    text = _URL.sub("x" * MASTODON_URL_LENGTH, text)
    return len(_MASTODON_MENTION.sub(lambda m: "@" + m.group(1), text))


def mastodon_reply_length(text: str) -> int:
    """A reply's length with the customer's mention the sender puts in front of it."""
    return mastodon_length(text) + MASTODON_MENTION_RESERVE


def x_length(text: str) -> int:
    """The length X counts for a post: URLs as 23, light characters as 1, the rest (CJK, emoji) as 2."""
    length = 0
    last = 0
    for match in _X_URL.finditer(text):
        length += _x_weigh(text[last:match.start()]) + X_URL_LENGTH
        last = match.end()
    return length + _x_weigh(text[last:])


def _x_weigh(text: str) -> int:
    return sum(1 if any(lo <= ord(ch) <= hi for lo, hi in _X_LIGHT_RANGES) else 2 for ch in text)


def _is_emoji_part(code: int) -> bool:
    """A code point that is an emoji or part of one's sequence (pictographs, dingbats and symbols drawn as emoji,
    regional indicators, skin-tone modifiers, the zero-width joiner, variation selector 16, keycap, tags)."""
    return (0x1F000 <= code <= 0x1FAFF or 0x2600 <= code <= 0x27BF or 0x2B00 <= code <= 0x2BFF
            or 0x2190 <= code <= 0x21FF or 0x2300 <= code <= 0x23FF or code in (0x200D, 0xFE0F, 0x20E3, 0x00A9,
                                                                                 0x00AE, 0x203C, 0x2049, 0x2122, 0x2139)
            or 0xE0020 <= code <= 0xE007F)


def threads_length(text: str) -> int:
    """Threads' count: one per character, an emoji (and each part of its sequence) as its UTF-8 bytes."""
    return sum(len(ch.encode("utf-8", "surrogatepass")) if _is_emoji_part(ord(ch)) else 1 for ch in text)


def measure(counting: Counting, text: str) -> int:
    """``text``'s length counted as ``counting`` says (X: weighted, URLs 23; Bluesky: graphemes, URLs in full;
    Mastodon: URLs 23, plus the customer's @mention the reply starts with; Threads: an emoji as its UTF-8 bytes;
    otherwise characters). Which channel
    counts how is in ``domain.channel_profiles``."""
    if counting is Counting.X_WEIGHTED:
        return x_length(text)
    if counting is Counting.GRAPHEMES:
        return graphemes(text)
    if counting is Counting.MASTODON:
        return mastodon_reply_length(text)
    if counting is Counting.THREADS:
        return threads_length(text)
    return len(text)
