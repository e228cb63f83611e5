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
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain import sentiment
from chalicelib.domain.config import INTENTS, NEVER_ACKNOWLEDGED, BrandConfig, Rule
from chalicelib.domain.decision import TriageDecision
from chalicelib.domain.mention import CHANNELS
from chalicelib.domain.vocabulary import Intent, MaybeTone, Priority, Tone, maybe_tone

__all__ = ["Triage", "triage", "detect_language", "find_personal_data", "normalise"]

#: Intents never acknowledged, whatever the brand's policy (``triage.acknowledge`` cannot list them).
NO_ACK_INTENTS = NEVER_ACKNOWLEDGED


@dataclass(frozen=True)
class Triage:
    desk: str
    priority: Priority
    intent: Intent
    language: str  # ISO 639-1, or "und" when unknown
    references: dict[str, list[str]] = field(default_factory=dict)
    personal_data: list[str] = field(default_factory=list)
    high_reach: bool = False
    reasons: list[str] = field(default_factory=list)
    sentiment: float | None = None  # VADER compound score, -1 to +1 (None when the rules need none)
    ack: bool | None = None  # the brand's acknowledgement policy's decision (None: by intent alone)
    #: What the rules read, as numbers (``signals``): the learned scorer's input beside the words.
    signals: dict[str, float] = field(default_factory=dict)
    #: How the reply reads (``Tone``): an apology, "question received", a thank-you, or a neutral holding reply
    #: that reads right to a complaint and to praise alike; empty when the message is not answered.
    tone: MaybeTone = ""
    #: How sure the decision is: the learned scorer's probability of what decided it (None: rules alone).
    confidence: float | None = None
    #: The learned scorer's probability per intent (empty without a model).
    probabilities: dict[str, float] = field(default_factory=dict)
    #: Why the customer is or is not answered, for people ("complaint", "praise is never acknowledged").
    why: str = ""

    @property
    def decision(self) -> TriageDecision:
        """The decision as the ticket keeps it (``Ticket.decision``): the intent, answered or not and why, the tone
        and how sure."""
        return TriageDecision(intent=self.intent, answered=self.acknowledge, why=self.why, tone=self.tone,
                              confidence=self.confidence)

    @property
    def acknowledge(self) -> bool:
        """Whether the customer gets an automatic acknowledgement (``triage.acknowledge``; never for praise, spam,
        abuse)."""
        if self.ack is not None:
            return self.ack
        return self.intent not in NO_ACK_INTENTS

    def __post_init__(self) -> None:
        """The words of the vocabulary as its members, whether given as members or as their text."""
        object.__setattr__(self, "priority", Priority(self.priority))
        object.__setattr__(self, "intent", Intent(self.intent))
        object.__setattr__(self, "tone", maybe_tone(self.tone))

    @property
    def urgent(self) -> bool:
        return self.priority == Priority.URGENT

    @property
    def sensitive(self) -> bool:
        """Personal data in the text: move the conversation out of public view."""
        return bool(self.personal_data)

    def to_dict(self) -> dict[str, Any]:
        return {
            "desk": self.desk,
            "priority": str(self.priority),
            "intent": str(self.intent),
            "language": self.language,
            "references": {k: list(v) for k, v in self.references.items()},
            "personal_data": list(self.personal_data),
            "high_reach": self.high_reach,
            "reasons": list(self.reasons),
            "sentiment": self.sentiment,
            "acknowledge": self.acknowledge,
            "tone": str(self.tone),
            "confidence": self.confidence,
            "probabilities": dict(self.probabilities),
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
    ack_channels_tagged: frozenset[str]  # channels that acknowledge only posts tagging the brand (``tagged``)
    learned: bool  # the learned scorer decides (``triage.acknowledge.learned``)
    thank_praise: bool  # confident praise gets a thank-you (``triage.acknowledge.praise``)
    overrides: dict[str, float]  # the brand's thresholds for the learned scorer's tones and silence
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
    order: list[str] = [*rules.intent_order, *(i for i in INTENTS if i not in rules.intent_order)]
    defined: dict[str, list[Rule]] = {str(name): rules_of for name, rules_of in rules.intents.items()}
    intents = tuple(
        (intent, tuple(_Compiled.of(rule, f"{intent}[{i}]") for i, rule in enumerate(defined.get(intent, []))))
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
        ack_channels_tagged=frozenset(c for c in CHANNELS if policy.tagged_only(c)),
        learned=policy.learned,
        thank_praise=policy.praise == "thanks",
        overrides={name: value for name, value in (
            ("silence", policy.sensitivity), ("apology", policy.apology_min), ("thanks", policy.thanks_min),
            ("question", policy.question_min)) if value is not None},
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
    tagged: bool = True,
    use_scorer: bool = True,
) -> Triage:
    """Triage one message. Pure: the same input and configuration always give the same result. ``tagged``: the post
    tags the brand's account (False only for a Bluesky reply or quote that does not). ``use_scorer``: False
    decides by the rules alone even where the brand turned the learned scorer on (``acknowledge.learned``; its
    figures are measured against the rules')."""
    book = _rule_book(config)
    clean = normalise(text)
    lang = language or detect_language(text)
    reasons: list[str] = []

    # signals read once: sentiment (only when a rule uses it), whether the post passes something on
    score: float | None = None
    use_scorer = use_scorer and book.learned
    if book.sentiment or book.ack_min_negative is not None or use_scorer:
        score = sentiment.compound(clean)
    passed_on, link_only = "", False
    if book.retweets and _RETWEET.match(text):
        passed_on = "a retweet"
    elif _URL.search(text) and len(_WORD.findall(_HASHTAG.sub(" ", clean))) <= book.link_only_words:
        passed_on, link_only = "a link with next to no words of its own", True
    elif not any(ch.isalnum() or ch in "?!" or unicodedata.category(ch) == "So" for ch in clean):
        passed_on = "nothing of its own"  # a bare tag: no word, sign or emoji to answer
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

    # the reply: answered or not, and in which tone
    read = signals(scores, score, asks=asks, passed_on=bool(passed_on), link_only=link_only,
                   urgent=priority == "urgent", text=text)
    model = _default_scorer() if use_scorer else None
    probabilities = model.probabilities(text, read) if model is not None else {}
    thresholds = {**(dict(model.thresholds) if model is not None else {}), **book.overrides}
    reply = _reply(book, intent=intent, priority=priority, asks=asks, score=score, fired=fired, channel=channel,
                   tagged=tagged, passed_on=bool(passed_on) and not link_only, probabilities=probabilities,
                   thresholds=thresholds, mixed=bool(_MIXED.search(clean)))  # normalise made the quotes plain
    ack = reply.answer
    reasons.extend(TriageDecision(intent=Intent(intent), answered=ack, why=reply.why, tone=maybe_tone(reply.tone),
                                  confidence=reply.confidence).lines)

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
        priority=Priority(priority),
        intent=Intent(intent),
        language=lang,
        references=references,
        personal_data=personal,
        high_reach=high_reach,
        reasons=reasons,
        sentiment=score,
        ack=ack,
        signals=read,
        tone=maybe_tone(reply.tone),
        confidence=reply.confidence,
        probabilities=probabilities,
        why=reply.why,
    )


def _default_scorer() -> Any:
    try:
        from chalicelib.domain.scorer import default_scorer
    except ImportError:
        return None
    return default_scorer()


def signals(scores: dict[str, float], sentiment_score: float | None, *, asks: bool, passed_on: bool,
            link_only: bool, urgent: bool, text: str) -> dict[str, float]:
    """What the rules read, as numbers, for the learned scorer (``domain.scorer``): each intent's rule score
    (``rule:<intent>``), the sentiment, whether the message asks something, passes something on (a retweet, a
    crowd's talk, a staff reply), is a bare link, is urgent; its question and exclamation marks."""
    out = {f"rule:{intent}": float(scores.get(intent, 0.0)) for intent in INTENTS}
    out.update({"sentiment": float(sentiment_score or 0.0), "asks": float(asks), "passed_on": float(passed_on),
                "link_only": float(link_only), "urgent": float(urgent),
                "question_marks": float(min(text.count("?"), 3)), "exclamations": float(min(text.count("!"), 3))})
    return out


#: Words that turn praise into mixed feelings ("thanks for the reply but...", "great job... oh wait, you don't",
#: "never coming back", "it used to work", "for the love of god"): praise that has them gets the neutral reply,
#: never the thank-you.
_MIXED = re.compile(r"\b(?:but|however|though|although|oh wait|unfortunately|except|yet|not|never|no longer|"
                    r"used to|was going|for the love of|thank goodness|thank god|"
                    r"pero|sin embargo|nunca|mais|pourtant|jamais|pas|aber|jedoch|nicht|nie|"
                    r"[a-z]+n't|cant|dont|didnt|doesnt|wont|isnt|wasnt)\b", re.IGNORECASE)

#: The tones of a reply: apology and help (a confident complaint), "question received", a thank-you (confident
#: praise, when the brand thanks), and a neutral holding reply that reads right to a complaint and to praise alike.
TONES: tuple[Tone, ...] = tuple(Tone)
#: Without a learned model: how sure the rules must be before the tone changes from neutral (sentiment at most this
#: for an apology, at least that for a thank-you).
RULES_APOLOGY_SENTIMENT, RULES_THANKS_SENTIMENT = -0.2, 0.5


@dataclass(frozen=True)
class Reply:
    """Whether a message is answered, in which tone, how sure, and why (``_reply``)."""

    answer: bool
    tone: str
    why: str
    confidence: float | None = None


def _reply(book: _RuleBook, *, intent: str, priority: str, asks: bool, score: float | None,
           fired: dict[str, list[str]], channel: str, tagged: bool, passed_on: bool,
           probabilities: dict[str, float], thresholds: dict[str, float], mixed: bool = False) -> Reply:
    """Answer unless sure the message asks nothing of the brand (spam, abuse — flagged for a person —, a retweet,
    a crowd's talk, a staff reply, a bare link, or, with the learned scorer, a message it is confident needs no
    answer; confident praise when the brand sends no thank-you), then pick the tone by confidence: an apology only
    for a confident complaint, a thank-you only for confident praise, "question received" for a question, and
    otherwise the neutral holding reply. Without a model, the rules decide (the acknowledgement policy of
    ``triage.acknowledge``) and the tone follows the rules' intent only where the sentiment agrees."""
    if intent in NO_ACK_INTENTS - {"praise"}:
        return Reply(False, "", f"{intent} is never answered by a bot" + (" (flagged for a person)"
                                                                          if intent == "abuse" else ""))
    if channel in book.ack_channels_off:
        return Reply(False, "", f"automatic acknowledgements are off on {channel}")
    if channel in book.ack_channels_tagged and not tagged:
        return Reply(False, "", f"on {channel} only posts that tag the brand's account are acknowledged")
    urgent = priority == "urgent"
    if passed_on and not urgent:
        return Reply(False, "", "it asks the brand nothing (passed on, not a request)")
    if not probabilities:
        return _reply_by_rules(book, intent, urgent, asks, score, fired, mixed)
    p = probabilities
    apology_at, thanks_at = thresholds.get("apology", 0.6), thresholds.get("thanks", 0.8)
    question_at = thresholds.get("question", 0.5)
    silence_at = thresholds.get("silence" if book.thank_praise or "silence" in book.overrides
                                else "silence_no_thanks", thresholds.get("silence", 0.9))
    praise = p.get("praise", 0.0)
    # a thank-you only where the rules and the scorer agree it is praise, and the words are warm: thanking an
    # angry customer is the one reply worse than the neutral one
    thanked = book.thank_praise and intent == "praise" and "complaint" not in fired
    quiet = p.get("spam", 0.0) + p.get("abuse", 0.0) + p.get("other", 0.0) + (0.0 if book.thank_praise else praise)
    if not urgent and quiet >= silence_at:
        return Reply(False, "", f"needs no answer: {quiet:.2f} >= {silence_at:.2f}", quiet)
    if not book.thank_praise and not urgent and praise >= thanks_at and "complaint" not in fired:
        return Reply(False, "", f"praise ({praise:.2f}): the brand sends no thank-you", praise)
    if p.get("complaint", 0.0) >= apology_at or urgent:
        return Reply(True, "apology", "complaint" if not urgent else "urgent", p.get("complaint", 0.0))
    if p.get("question", 0.0) >= question_at or (asks and intent == "question"):
        return Reply(True, "question", "question", p.get("question", 0.0))
    if thanked and praise >= thanks_at and (score is None or score > 0) and not mixed:
        return Reply(True, "thanks", "praise", praise)
    return Reply(True, "neutral", f"unsure: {_top(p)}", max(p.values()))


def _top(probabilities: dict[str, float]) -> str:
    ranked = sorted(probabilities.items(), key=lambda kv: -kv[1])[:2]
    return ", ".join(f"{intent} {value:.2f}" for intent, value in ranked)


def _reply_by_rules(book: _RuleBook, intent: str, urgent: bool, asks: bool, score: float | None,
                    fired: dict[str, list[str]], mixed: bool = False) -> Reply:
    """The decision without a learned model: the acknowledgement policy (``triage.acknowledge``), the tone only as
    sure as the rules and the sentiment together."""
    if intent == "praise":
        if book.thank_praise and "complaint" not in fired and score is not None and score >= RULES_THANKS_SENTIMENT \
                and not mixed:
            return Reply(True, "thanks", "praise")
        return Reply(False, "", "praise is never acknowledged" if not book.thank_praise else
                     "praise, not sure enough for a thank-you")
    negative = score is not None and score <= RULES_APOLOGY_SENTIMENT
    if intent in book.ack_intents or (book.ack_urgent and urgent):
        if urgent or (intent == "complaint" and negative):
            return Reply(True, "apology", "urgent" if urgent and intent not in book.ack_intents else intent)
        return Reply(True, "question" if intent == "question" else "neutral", intent)
    if intent == "other" and book.ack_other_if_question and asks:
        return Reply(True, "question", "asks: " + ", ".join(fired["question"]))
    if intent == "other" and book.ack_min_negative is not None and score is not None \
            and score <= book.ack_min_negative:
        return Reply(True, "neutral", f"sentiment {score:+.2f} <= {book.ack_min_negative:+.2f}")
    return Reply(False, "", f"{intent} that asks nothing")


def policy_acknowledges(intent: str, decision: TriageDecision | None) -> bool:
    """Whether a ticket triaged earlier may get an automatic acknowledgement (closing time, busy): the decision it
    keeps (an agent's label, else triage's: ``Ticket.current_decision``), else by intent alone (tickets from before
    the policy)."""
    if decision is not None:
        return decision.answered
    return intent not in NO_ACK_INTENTS


def explain(decision: TriageDecision | None, reasons: list[str]) -> dict[str, Any]:
    """What triage decided for a ticket, for the agents: whether the customer is answered and why, the tone and how
    sure (``decision``; all empty for a ticket from before the policy), and the signals behind it (the reasons, in
    order, less the lines that word the decision itself)."""
    if decision is None:
        return {"answered": None, "why": "", "tone": "", "confidence": None, "signals": list(reasons)}
    said = set(decision.lines)
    return {"answered": decision.answered, "why": decision.why, "tone": str(decision.tone),
            "confidence": decision.confidence, "signals": [r for r in reasons if r not in said]}
