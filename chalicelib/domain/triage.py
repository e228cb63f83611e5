"""Triage: decide desk, priority, intent and the acknowledgement of a message from rules kept as data in the
configuration.

Pure and fast: every keyword list and regex is compiled once per configuration object; the sentiment analyser
(:mod:`chalicelib.domain.sentiment`) is loaded once per process, on first use. Every decision is explained in
``Triage.reasons`` (which rule fired on which words, the sentiment score, why the customer is or is not
acknowledged).

How a message is read:

* @mentions, URLs and HTML entities are removed before rules are matched, so a brand handle such as
  ``@SouthWestTrains`` never counts as a word;
* ``intent``: each intent's rules add their weight when they match (a rule marked ``negatable`` does not count
  right after a negation: "not great"); ``triage.sentiment`` rules add theirs when the message's sentiment is
  low or high enough; the highest score wins, ties go to the intent listed first in ``triage.intent_order``;
  no match gives ``triage.default_intent``. A retweet ("RT @..."), a link with next to no words of its own, a post
  naming a crowd of accounts, or one matching a ``triage.not_requests`` pattern (a support agent's signed reply) is
  ``other`` whatever it says: it asks the brand nothing. Phrases that name a problem only to say there is none
  (``triage.negation.no_problem``: "no worries", "without issue") are blanked out before the intent rules match;
* ``acknowledge``: ``triage.acknowledge`` — the intents that get the automatic acknowledgement (complaints and
  questions by default), an ``other`` message that asks something or reads very negative, any urgent message;
  never praise, spam or abuse, and nothing on a channel whose acknowledgements are off (Bluesky by default);
* ``priority``: urgent when any ``triage.urgent`` rule matches (never for spam);
* ``desk``: the high-reach desk for high-reach authors, otherwise the desk rule with the highest
  score (ties: the first listed), otherwise ``routing.default_desk``;
* ``references`` and ``personal_data`` list what was found; personal data (e-mail addresses, phone
  numbers, card and bank account numbers, plus configured kinds) is detected so that replies move the
  conversation to a private channel and never echo it.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain import sentiment
from chalicelib.domain.config import INTENTS, NEVER_ACKNOWLEDGED, BrandConfig, Rule
from chalicelib.domain.mention import CHANNELS

__all__ = ["Triage", "triage", "detect_language", "find_personal_data", "normalise"]

#: Intents never acknowledged, whatever the brand's policy (``triage.acknowledge`` cannot list them).
NO_ACK_INTENTS = NEVER_ACKNOWLEDGED


@dataclass(frozen=True)
class Triage:
    desk: str
    priority: str  # "urgent" | "normal"
    intent: str  # one of config.INTENTS
    language: str  # ISO 639-1, or "und" when unknown
    references: dict[str, list[str]] = field(default_factory=dict)
    personal_data: list[str] = field(default_factory=list)
    high_reach: bool = False
    reasons: list[str] = field(default_factory=list)
    sentiment: float | None = None  # VADER compound score, -1 to +1 (None when the rules need none)
    ack: bool | None = None  # the brand's acknowledgement policy's decision (None: by intent alone)

    @property
    def acknowledge(self) -> bool:
        """Whether the customer gets an automatic acknowledgement (``triage.acknowledge``; never for praise, spam,
        abuse)."""
        if self.ack is not None:
            return self.ack
        return self.intent not in NO_ACK_INTENTS

    @property
    def urgent(self) -> bool:
        return self.priority == "urgent"

    @property
    def sensitive(self) -> bool:
        """Personal data in the text: move the conversation out of public view."""
        return bool(self.personal_data)

    def to_dict(self) -> dict[str, Any]:
        return {
            "desk": self.desk,
            "priority": self.priority,
            "intent": self.intent,
            "language": self.language,
            "references": {k: list(v) for k, v in self.references.items()},
            "personal_data": list(self.personal_data),
            "high_reach": self.high_reach,
            "reasons": list(self.reasons),
            "sentiment": self.sentiment,
            "acknowledge": self.acknowledge,
        }


# --------------------------------------------------------------------------------------------------
# text normalisation
# --------------------------------------------------------------------------------------------------

_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w@])@\w{1,30}")
_RETWEET = re.compile(r"^\W{0,3}RT\s+@\w", re.IGNORECASE)
_HASHTAG = re.compile(r"#\w+")
_ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'"}
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " ", "\ufe0f": ""})


def normalise(text: str, *, keep_mentions: bool = False) -> str:
    """Text as rules see it: no URLs, no @mentions, plain quotes, decoded entities."""
    for entity, char in _ENTITIES.items():
        text = text.replace(entity, char)
    text = _URL.sub(" ", text.translate(_QUOTES))
    if not keep_mentions:
        text = _MENTION.sub(" ", text)
    return text


# --------------------------------------------------------------------------------------------------
# language
# --------------------------------------------------------------------------------------------------

_STOPWORDS = {
    "en": "the and is are was were to of in on for my me you your it this that with not have has had "
    "i i'm im we they what why how when where can can't cant don't dont will would please thanks "
    "just at be been from but no any there get got an so do does did our us",
    "fr": "le la les un une des et est sont je tu il elle nous vous mon ma mes ton votre pas ne que "
    "qui pour dans sur avec ce cette c'est j'ai merci bonjour au aux du depuis mais ou très",
    "es": "el la los las un una y es son yo tu mi mis que de en por para con no se lo al del "
    "pero como gracias hola está estoy muy porque qué cuando ya también",
    "de": "der die das und ist sind ich du er sie wir ihr mein meine nicht ein eine mit für auf "
    "im dem den des zu von bei aber wie warum danke hallo noch schon auch",
    "nl": "de het een en is zijn ik jij je hij zij wij mijn niet met voor op van dat die te "
    "maar wat waarom bedankt hallo nog ook al naar",
    "it": "il lo la i gli le un una e è sono io tu mio mia non che di in per con su del della "
    "ma come perché grazie ciao ancora anche già",
}
_STOPWORD_SETS = {lang: frozenset(words.split()) for lang, words in _STOPWORDS.items()}
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def detect_language(text: str) -> str:
    """A small stop-word vote over en/fr/es/de/nl/it; ``"und"`` when there is too little evidence."""
    words = [w.lower() for w in _WORD.findall(normalise(text))]
    if not words:
        return "und"
    scores = {lang: sum(1 for w in words if w in stop) for lang, stop in _STOPWORD_SETS.items()}
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    (best, top), (_, second) = ranked[0], ranked[1]
    if top == 0 or (top < 2 and len(words) > 3) or top == second:
        # A single short word list ("help!") says little; a tie says nothing.
        if top == 1 and len(words) <= 3 and top > second:
            return best
        return "und"
    return best


# --------------------------------------------------------------------------------------------------
# personal data
# --------------------------------------------------------------------------------------------------

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_NUMBER_RUN = re.compile(r"(?<![\w+])(\+?\(?\d[\d \-().]{6,}\d)(?![\w])")
_SORT_CODE = re.compile(r"(?<![\d-])\d{2}[- ]\d{2}[- ]\d{2}(?![\d-])")
_ACCOUNT_HINT = re.compile(r"\b(?:account|acct|a/c)\s*(?:no\.?|number|num|#)?\s*:?\s*(\d{6,10})\b", re.IGNORECASE)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,3})?\b")


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def _classify_number(raw: str) -> str | None:
    digits = re.sub(r"\D", "", raw)
    international = raw.lstrip("(").startswith("+")
    if international and 10 <= len(digits) <= 15:
        return "phone"
    # A card number's separators, if any, must look like card grouping (no dots or brackets).
    if 13 <= len(digits) <= 19 and (_luhn(digits) or len(digits) == 16) and not re.search(r"[().]", raw):
        return "card"
    # UK numbers: 01/02 geographic, 03 non-geographic, 07 mobile, 08 freephone / special rate.
    if digits.startswith("0") and not digits.startswith("00") and len(digits) in (10, 11) and digits[1] in "12378":
        return "phone"
    if digits.startswith("00") and 11 <= len(digits) <= 17:
        return "phone"
    return None


def find_personal_data(text: str, extra: Sequence[tuple[str, re.Pattern[str]]] = ()) -> list[str]:
    """Kinds of personal data in ``text`` (``email``, ``phone``, ``card``, ``account`` + configured)."""
    text = _URL.sub(" ", text.translate(_QUOTES))
    found: list[str] = []

    def add(kind: str) -> None:
        if kind not in found:
            found.append(kind)

    if _EMAIL.search(text):
        add("email")
    without_mentions = _MENTION.sub(" ", _EMAIL.sub(" ", text))
    for match in _NUMBER_RUN.finditer(without_mentions):
        kind = _classify_number(match.group(1))
        if kind:
            add(kind)
    if _SORT_CODE.search(without_mentions) or _ACCOUNT_HINT.search(without_mentions) or _IBAN.search(without_mentions):
        add("account")
    for kind, pattern in extra:
        if pattern.search(without_mentions):
            add(kind)
    return found


# --------------------------------------------------------------------------------------------------
# compiled rules
# --------------------------------------------------------------------------------------------------

_FLAGS = re.IGNORECASE | re.UNICODE


def _units(keyword: str) -> list[str]:
    """A keyword as regex pieces, one per character: ``*`` a run of word characters, a space any whitespace, an
    apostrophe either apostrophe; letters in lower case (matching ignores case)."""
    units: list[str] = []
    for char in keyword.translate(_QUOTES):
        if char.isspace():
            if not units or units[-1] != r"\s+":
                units.append(r"\s+")
        elif char == "*":
            units.append(r"\w*")
        elif char == "'":
            units.append("['\u2019]")
        else:
            units.append(re.escape(char.lower()))
    return units


def _keyword_regex(keywords: Iterable[str]) -> re.Pattern[str] | None:
    """Whole-word, case-insensitive match of any keyword; ``*`` is a word-character wildcard (``refund*``).

    The keywords are folded into a prefix tree, so the regex tries each position once per shared prefix instead
    of once per keyword (hundreds of keywords cost little more than a few); longer keywords are tried first."""
    end = ""
    trie: dict[str, Any] = {}
    longest: dict[int, int] = {}
    for keyword in {k.strip() for k in keywords if k.strip()}:
        node = trie
        for unit in _units(keyword):
            longest[id(node)] = max(longest.get(id(node), 0), len(keyword))
            node = node.setdefault(unit, {})
        longest[id(node)] = max(longest.get(id(node), 0), len(keyword))
        node[end] = {}
    if not trie:
        return None

    def regex(node: dict[str, Any]) -> str:
        branches = sorted((unit for unit in node if unit != end), key=lambda u: -longest.get(id(node[u]), 0))
        parts = [unit + regex(node[unit]) for unit in branches]
        if not parts:
            return ""
        body = parts[0] if len(parts) == 1 else "(?:" + "|".join(parts) + ")"
        return f"(?:{body})?" if end in node else body

    return re.compile(r"(?<!\w)" + regex(trie) + r"(?!\w)", _FLAGS)


@dataclass(frozen=True)
class _Compiled:
    label: str
    keywords: re.Pattern[str] | None
    patterns: tuple[re.Pattern[str], ...]
    channels: frozenset[str]
    languages: frozenset[str]
    weight: float
    intents: frozenset[str] = frozenset()
    desk: str = ""
    negatable: bool = False
    alone: bool = True

    @classmethod
    def of(cls, rule: Rule, label: str) -> _Compiled:
        return cls(
            label=rule.name or label,
            keywords=_keyword_regex(rule.keywords),
            patterns=tuple(re.compile(p, _FLAGS) for p in rule.patterns),
            channels=frozenset(rule.channels),
            languages=frozenset(rule.languages),
            weight=rule.weight,
            intents=frozenset(getattr(rule, "intents", ()) or ()),
            desk=getattr(rule, "desk", ""),
            negatable=rule.negatable,
            alone=rule.alone,
        )

    def match(self, text: str, channel: str, language: str, intent: str = "",
              negation: _Negation | None = None) -> str | None:
        """What made the rule fire (the matched words), or None. A ``negatable`` rule skips hits that follow a
        negation (``negation``)."""
        if self.channels and channel not in self.channels:
            return None
        if self.languages and language not in self.languages:
            return None
        if self.intents and intent not in self.intents:
            return None
        check = negation if self.negatable else None
        for regex in ((self.keywords,) if self.keywords is not None else ()) + self.patterns:
            if check is None:
                m = regex.search(text)
                if m:
                    return m.group(0)
                continue
            for m in regex.finditer(text):
                if not check.negates(text, m.start()):
                    return m.group(0)
        if self.intents and self.keywords is None and not self.patterns:
            return f"intent {intent}"
        return None


#: Contractions that negate, written with or without the apostrophe.
_NT = re.compile(r"(?:n't|nt)$")
_NT_WORDS = frozenset({"dont", "didnt", "doesnt", "isnt", "wasnt", "arent", "werent", "cant", "wont", "aint",
                       "havent", "hasnt", "hadnt", "shouldnt", "wouldnt", "couldnt", "neednt", "mustnt"})


@dataclass(frozen=True)
class _Negation:
    words: frozenset[str]
    window: int

    def negates(self, text: str, start: int) -> bool:
        """Whether one of the ``window`` words before ``start`` is a negation ("not", "never", "didn't")."""
        before = _WORD.findall(text[max(0, start - 12 * self.window):start])[-self.window:]
        for word in before:
            lowered = word.lower()
            if lowered in self.words or lowered in _NT_WORDS or ("'" in lowered and _NT.search(lowered)):
                return True
        return False


@dataclass(frozen=True)
class _SentimentRule:
    label: str
    below: float | None
    above: float | None
    intent: str
    weight: float
    alone: bool

    def holds(self, score: float) -> bool:
        if self.below is not None:
            return score <= self.below
        return self.above is not None and score >= self.above


@dataclass(frozen=True)
class _RuleBook:
    intents: tuple[tuple[str, tuple[_Compiled, ...]], ...]
    order: tuple[str, ...]
    default_intent: str
    sentiment: tuple[_SentimentRule, ...]
    negation: _Negation
    no_problem: re.Pattern[str] | None
    retweets: bool
    not_request_patterns: tuple[tuple[str, re.Pattern[str]], ...]
    link_only_words: int
    crowd_mentions: int
    ack_intents: frozenset[str]
    ack_other_if_question: bool
    ack_urgent: bool
    ack_min_negative: float | None
    ack_channels_off: frozenset[str]  # channels with no automatic acknowledgement (``triage.acknowledge.channels``)
    urgent: tuple[_Compiled, ...]
    desks: tuple[_Compiled, ...]
    references: tuple[tuple[str, tuple[re.Pattern[str], ...]], ...]
    personal_data: tuple[tuple[str, re.Pattern[str]], ...]
    reach_followers: int
    reach_words: _Compiled | None
    reach_desk: str | None
    default_desk: str


def _compile(config: BrandConfig) -> _RuleBook:
    rules = config.triage
    order = list(rules.intent_order) + [i for i in INTENTS if i not in rules.intent_order]
    intents = tuple(
        (intent, tuple(_Compiled.of(rule, f"{intent}[{i}]") for i, rule in enumerate(rules.intents.get(intent, []))))
        for intent in order
    )
    reach = rules.high_reach
    reach_words = None
    if reach.keywords or reach.patterns:
        reach_rule = Rule(name="high reach", keywords=reach.keywords, patterns=reach.patterns)
        reach_words = _Compiled.of(reach_rule, "high reach")
    policy = rules.acknowledge
    return _RuleBook(
        intents=intents,
        order=tuple(order),
        default_intent=rules.default_intent,
        sentiment=tuple(
            _SentimentRule(rule.name or f"sentiment[{i}]", rule.below, rule.above, rule.intent, rule.weight,
                           rule.alone)
            for i, rule in enumerate(rules.sentiment)
        ),
        negation=_Negation(frozenset(w.lower() for w in rules.negation.words), rules.negation.window),
        no_problem=_keyword_regex(rules.negation.no_problem),
        retweets=rules.not_requests.retweets,
        not_request_patterns=tuple((p.name, re.compile(p.pattern)) for p in rules.not_requests.patterns),
        link_only_words=rules.not_requests.link_only_words,
        crowd_mentions=rules.not_requests.crowd_mentions,
        ack_intents=frozenset(policy.intents) - NO_ACK_INTENTS,
        ack_other_if_question=policy.other_if_question,
        ack_urgent=policy.urgent,
        ack_min_negative=policy.min_negative_sentiment,
        ack_channels_off=frozenset(c for c in CHANNELS if not policy.on(c)),
        urgent=tuple(_Compiled.of(rule, f"urgent[{i}]") for i, rule in enumerate(rules.urgent)),
        desks=tuple(_Compiled.of(rule, f"{rule.desk}[{i}]") for i, rule in enumerate(rules.desks)),
        references=tuple(
            (kind, tuple(re.compile(p) for p in patterns)) for kind, patterns in rules.references.items()
        ),
        personal_data=tuple(
            (kind, re.compile(p, re.IGNORECASE)) for kind, patterns in rules.personal_data.items() for p in patterns
        ),
        reach_followers=reach.followers,
        reach_words=reach_words,
        reach_desk=reach.desk,
        default_desk=config.routing.default_desk,
    )


def _rule_book(config: BrandConfig) -> _RuleBook:
    return config.derived("triage.rule_book", _compile)


# --------------------------------------------------------------------------------------------------
# triage
# --------------------------------------------------------------------------------------------------


def _find_references(text: str, book: _RuleBook) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for kind, patterns in book.references:
        values: list[str] = []
        for pattern in patterns:
            for m in pattern.finditer(text):
                value = next((g for g in m.groups() if g), None) if m.groups() else m.group(0)
                value = (value or m.group(0)).strip()
                if value and value not in values:
                    values.append(value)
        if values:
            found[kind] = values
    return found


def triage(
    text: str,
    *,
    channel: str,
    config: BrandConfig,
    followers: int = 0,
    language: str = "",
) -> Triage:
    """Triage one message. Pure: the same input and configuration always give the same result."""
    book = _rule_book(config)
    clean = normalise(text)
    lang = language or detect_language(text)
    reasons: list[str] = []

    # signals read once: sentiment (only when a rule uses it), whether the post passes something on
    score: float | None = None
    if book.sentiment or book.ack_min_negative is not None:
        score = sentiment.compound(clean)
    passed_on, link_only = "", False
    if book.retweets and _RETWEET.match(text):
        passed_on = "a retweet"
    elif _URL.search(text) and len(_WORD.findall(_HASHTAG.sub(" ", clean))) <= book.link_only_words:
        passed_on, link_only = "a link with next to no words of its own", True
    elif book.crowd_mentions and len(_MENTION.findall(text)) >= book.crowd_mentions:
        passed_on = f"a post naming {len(_MENTION.findall(text))} accounts"
    else:
        passed_on = next((name for name, pattern in book.not_request_patterns if pattern.search(text)), "")
    if book.no_problem is not None:  # "no problem", "without issue": a problem named only to say there is none
        clean = book.no_problem.sub(" ", clean)

    # intent: every rule that matches adds its weight; a rule that may not count alone needs another of its intent
    scores: dict[str, float] = {}
    fired: dict[str, list[str]] = {}
    standing: set[str] = set()  # intents matched by a rule that counts alone

    def add(intent: str, weight: float, alone: bool, why: str) -> None:
        scores[intent] = scores.get(intent, 0.0) + weight
        fired.setdefault(intent, []).append(why)
        if alone:
            standing.add(intent)

    for intent, rules in book.intents:
        for rule in rules:
            hit = rule.match(clean, channel, lang, negation=book.negation)
            if hit is not None:
                add(intent, rule.weight, rule.alone, f"{rule.label} ({hit.strip()!r})")
    if score is not None:
        for tone in book.sentiment:
            if tone.holds(score):
                add(tone.intent, tone.weight, tone.alone, f"{tone.label} (sentiment {score:+.2f})")
    for intent in [i for i in scores if i not in standing]:
        del scores[intent], fired[intent]
    # a retweet, a crowd's talk or a staff reply asks the brand nothing; a bare link with a question mark may
    asks = "question" in scores and (not passed_on or link_only)
    if passed_on:
        intent = "other"
        reasons.append(f"intent other: {passed_on}, not a customer's request")
    elif scores:
        intent = max(scores, key=lambda i: (scores[i], -book.order.index(i)))
        reasons.append(f"intent {intent} (score {scores[intent]:g}): " + ", ".join(fired[intent]))
    else:
        intent = book.default_intent
        reasons.append(f"intent {intent}: no intent rule matched")
    others = [f"{i} {scores[i]:g}" for i in book.order if i in scores and i != intent]
    if others:
        reasons.append("other intents scored: " + ", ".join(others))
    if score is not None:
        reasons.append(f"sentiment {score:+.2f}")

    # priority
    priority = "normal"
    if intent != "spam":
        for rule in book.urgent:
            hit = rule.match(clean, channel, lang, intent)
            if hit is not None:
                priority = "urgent"
                reasons.append(f"urgent: {rule.label} ({hit.strip()!r})")
                break

    # acknowledgement
    ack, why = _acknowledge(book, intent, priority, asks, score, fired, channel)
    reasons.append(f"acknowledge: {'yes' if ack else 'no'} ({why})")

    # reach
    high_reach = False
    if book.reach_followers and followers >= book.reach_followers:
        high_reach = True
        reasons.append(f"high reach: {followers} followers >= {book.reach_followers}")
    elif book.reach_words is not None:
        hit = book.reach_words.match(clean, channel, lang)
        if hit is not None:
            high_reach = True
            reasons.append(f"high reach: {hit.strip()!r}")

    # desk
    desk = ""
    if high_reach and book.reach_desk:
        desk = book.reach_desk
        reasons.append(f"desk {desk}: high reach")
    else:
        desk_scores: dict[str, float] = {}
        desk_hits: dict[str, list[str]] = {}
        first_seen: dict[str, int] = {}
        for index, rule in enumerate(book.desks):
            hit = rule.match(clean, channel, lang, intent)
            if hit is not None:
                desk_scores[rule.desk] = desk_scores.get(rule.desk, 0.0) + rule.weight
                desk_hits.setdefault(rule.desk, []).append(f"{rule.label} ({hit.strip()!r})")
                first_seen.setdefault(rule.desk, index)
        if desk_scores:
            desk = max(desk_scores, key=lambda d: (desk_scores[d], -first_seen[d]))
            reasons.append(f"desk {desk} (score {desk_scores[desk]:g}): " + ", ".join(desk_hits[desk]))
        else:
            desk = book.default_desk
            reasons.append(f"desk {desk}: default")

    references = _find_references(normalise(text, keep_mentions=True), book)
    personal = find_personal_data(text, book.personal_data)
    if personal:
        reasons.append("personal data: " + ", ".join(personal))
    return Triage(
        desk=desk,
        priority=priority,
        intent=intent,
        language=lang,
        references=references,
        personal_data=personal,
        high_reach=high_reach,
        reasons=reasons,
        sentiment=score,
        ack=ack,
    )


def _acknowledge(book: _RuleBook, intent: str, priority: str, asks: bool, score: float | None,
                 fired: dict[str, list[str]], channel: str) -> tuple[bool, str]:
    """The acknowledgement policy (``triage.acknowledge``): the decision and why."""
    if intent in NO_ACK_INTENTS:
        return False, f"{intent} is never acknowledged"
    if channel in book.ack_channels_off:
        return False, f"automatic acknowledgements are off on {channel}"
    if intent in book.ack_intents:
        return True, f"{intent}"
    if book.ack_urgent and priority == "urgent":
        return True, "urgent"
    if intent == "other" and book.ack_other_if_question and asks:
        return True, "asks: " + ", ".join(fired["question"])
    if intent == "other" and book.ack_min_negative is not None and score is not None \
            and score <= book.ack_min_negative:
        return True, f"sentiment {score:+.2f} <= {book.ack_min_negative:+.2f}"
    return False, f"{intent} that asks nothing"


def policy_acknowledges(intent: str, reasons: list[str]) -> bool:
    """Whether a ticket triaged earlier may get an automatic acknowledgement (closing time, busy): the policy's
    decision recorded in its reasons ("acknowledge: no (...)"), else by intent alone (tickets from before the
    policy)."""
    for reason in reversed(reasons):
        if reason.startswith("acknowledge: "):
            return reason.startswith("acknowledge: yes")
    return intent not in NO_ACK_INTENTS
