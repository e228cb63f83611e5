"""The ``triage`` section of the brand file: intent, urgency and desk rules, sentiment rules, negation, posts that
are no request, references, personal data, high reach, and the acknowledgement policy (``triage.acknowledge``)."""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from chalicelib.domain.config.base import IntentName, _check_id, _Model, _problem
from chalicelib.domain.mention import CHANNELS
from chalicelib.domain.vocabulary import Intent

#: How intent ties are broken when ``triage.intent_order`` is not given.
DEFAULT_INTENT_ORDER: tuple[IntentName, ...] = ("abuse", "spam", "complaint", "question", "praise")
#: Intents no acknowledgement policy may include.
NEVER_ACKNOWLEDGED: frozenset[Intent] = frozenset({Intent.PRAISE, Intent.SPAM, Intent.ABUSE})
#: Intents acknowledged when ``triage.acknowledge.intents`` is not given.
DEFAULT_ACKNOWLEDGED: tuple[IntentName, ...] = ("complaint", "question")
#: Whether a channel gets automatic acknowledgements when ``triage.acknowledge.channels`` does not name it (a channel
#: not listed here: yes). Bluesky: ``tagged``. Its guidelines for automated accounts ask that they reply only to a
#: person who tagged the account ("it must be an opt-in interaction, or else your bot may be taken for spam"), while
#: the product also reads replies to the brand's posts and quotes of them, and every acknowledgement notifies its
#: reader: a post that tags the brand (a mention, or a reply or quote whose text tags it) is acknowledged, an
#: untagged reply or quote is not. ``bluesky: true`` acknowledges them all, ``false`` none (README, "Bluesky").
DEFAULT_ACK_CHANNELS: dict[str, bool | str] = {"bluesky": "tagged"}
#: The ``channels`` setting that acknowledges only posts that tag the brand's account (Bluesky's opt-in).
TAGGED = "tagged"


def _check_patterns(value: list[str]) -> list[str]:
    for pattern in value:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise _problem(f"invalid regular expression {pattern!r}: {exc}") from None
    return value


class Rule(_Model):
    """A matching rule: fires when any keyword (whole words / phrases) or any regex matches.

    Matching is case-insensitive. ``channels`` / ``languages`` restrict where the rule applies.
    ``weight`` counts towards the score of the intent or desk the rule belongs to.
    """

    name: str = ""
    keywords: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list)
    channels: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)
    weight: float = Field(default=1.0, gt=0)
    negatable: bool = False  # a hit right after a negation ("not great") does not count (``triage.negation``)
    alone: bool = True  # False: adds its weight only when another rule of the same intent matched

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, value: list[str]) -> list[str]:
        return _check_patterns(value)

    @field_validator("keywords")
    @classmethod
    def _non_empty(cls, value: list[str]) -> list[str]:
        if any(not k.strip() for k in value):
            raise _problem("empty keyword")
        return value

    @field_validator("channels")
    @classmethod
    def _channels(cls, value: list[str]) -> list[str]:
        for channel in value:
            if channel not in CHANNELS:
                raise _problem(f"unknown channel {channel!r} (known: {', '.join(CHANNELS)})")
        return value

    @model_validator(mode="after")
    def _something(self) -> Rule:
        if not self.keywords and not self.patterns:
            raise _problem("a rule needs keywords or patterns")
        return self


class DeskRule(Rule):
    """A desk rule; ``intents`` restricts it to those intents (alone, it matches every text of them)."""

    desk: str
    intents: list[IntentName] = Field(default_factory=list)

    @model_validator(mode="after")
    def _something(self) -> DeskRule:
        if not self.keywords and not self.patterns and not self.intents:
            raise _problem("a desk rule needs keywords, patterns or intents")
        return self


class HighReach(_Model):
    followers: int = Field(default=10000, ge=0)
    keywords: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list)
    desk: str | None = None  # where high-reach items go (e.g. press); None keeps the triaged desk

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, value: list[str]) -> list[str]:
        return _check_patterns(value)


class SentimentRule(_Model):
    """Adds ``weight`` to ``intent`` when the message's sentiment (VADER compound score, -1 to +1) is at or below
    ``below``, or at or above ``above`` (exactly one of the two)."""

    name: str = ""
    below: float | None = Field(default=None, ge=-1, le=1)
    above: float | None = Field(default=None, ge=-1, le=1)
    intent: IntentName
    weight: float = Field(default=1.0, gt=0)
    alone: bool = True  # False: adds its weight only when a rule of ``intent`` matched too

    @model_validator(mode="after")
    def _one_bound(self) -> SentimentRule:
        if (self.below is None) == (self.above is None):
            raise _problem("a sentiment rule needs exactly one of below or above")
        return self


class Negation(_Model):
    """Words that negate what follows (``not``, ``never``, and any word ending in ``n't``): a hit of a rule marked
    ``negatable`` with one of them among the ``window`` words before it does not count ("not great")."""

    words: list[str] = Field(default_factory=lambda: ["not", "never", "no", "nothing", "hardly", "without"])
    window: int = Field(default=3, ge=1, le=10)
    #: Phrases that name a problem only to say there is none ("no problem", "without issue", "no worries"): they are
    #: blanked out before intent rules are matched, so their words count for no intent.
    no_problem: list[str] = Field(default_factory=list)


class NamedPattern(_Model):
    """A regular expression with the name that the reasons give it."""

    name: str = Field(min_length=1)
    pattern: str = Field(min_length=1)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        return _check_patterns([value])[0]


class NotRequests(_Model):
    """Posts that are not a customer's request, whatever words they use: intent ``other``."""

    retweets: bool = True  # "RT @someone: ..." passes on someone else's post
    link_only_words: int = Field(default=2, ge=0)  # a post with a link and at most this many words of its own
    crowd_mentions: int = Field(default=0, ge=0)  # a post naming this many accounts or more (0: no limit)
    #: Regular expressions (case-sensitive) of posts that are no customer's request, e.g. a brand agent's signed
    #: reply ("... ^JAY"); each is named in the reasons by its ``name``.
    patterns: list[NamedPattern] = Field(default_factory=list)


class AckPolicy(_Model):
    """Who gets the automatic acknowledgement: messages of ``intents``; an ``other`` message when it asks something
    (a question rule matched) and ``other_if_question`` is on, or when its sentiment is at or below
    ``min_negative_sentiment``; any urgent message when ``urgent`` is on. Never praise, spam or abuse.

    ``channels`` turns the automatic acknowledgement on or off per channel (a channel not named keeps
    :data:`DEFAULT_ACK_CHANNELS`): off, the message still becomes a ticket on its desk, and nobody is answered
    until an agent is."""

    intents: list[IntentName] = Field(default_factory=lambda: list(DEFAULT_ACKNOWLEDGED))
    other_if_question: bool = True
    urgent: bool = True
    min_negative_sentiment: float | None = Field(default=None, ge=-1, le=1)
    channels: dict[str, bool | Literal["tagged"]] = Field(default_factory=dict)
    #: Decide with the learned scorer (``domain/scorer.py``, weights in ``chalicelib/triage_model.json``, trained by
    #: ``make triage-train`` on messages triaged by these rules): answer unless it is confident the message needs
    #: no answer, and pick the tone by its confidence. Off: the rules decide (``intents``, ``other_if_question``,
    #: ``min_negative_sentiment``) and the tone follows the rules' intent where the sentiment agrees.
    learned: bool = False
    #: Confident praise gets a thank-you reply (``thanks``) or none (``none``: left for the team to see).
    praise: Literal["thanks", "none"] = "thanks"
    #: How readily a message is answered at all: a message is left unanswered when the learned scorer's "needs no
    #: answer" probability is at or above this (higher: fewer silences, more chit-chat answered). None: the
    #: threshold chosen when the model was trained (``make triage-report`` prints the curve).
    sensitivity: float | None = Field(default=None, gt=0, le=1)
    #: The learned scorer's probability from which a reply's tone changes (None: the model's chosen thresholds):
    #: an apology (complaint), a thank-you (praise), "question received" (question).
    apology_min: float | None = Field(default=None, gt=0, le=1)
    thanks_min: float | None = Field(default=None, gt=0, le=1)
    question_min: float | None = Field(default=None, gt=0, le=1)

    @field_validator("channels", mode="before")
    @classmethod
    def _channels(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            for channel, on in value.items():
                if channel not in CHANNELS:
                    raise _problem(f"unknown channel {channel!r} (use one of {', '.join(CHANNELS)})")
                if not isinstance(on, bool) and on != TAGGED:
                    raise _problem(f"{channel}: true, false or tagged, not {on!r}")
        return value

    def on(self, channel: str) -> bool:
        """Whether ``channel`` gets automatic acknowledgements at all."""
        return self.channels.get(channel, DEFAULT_ACK_CHANNELS.get(channel, True)) is not False

    def tagged_only(self, channel: str) -> bool:
        """Whether ``channel`` acknowledges only posts that tag the brand's account (``tagged``)."""
        return self.channels.get(channel, DEFAULT_ACK_CHANNELS.get(channel, True)) == TAGGED

    @field_validator("intents")
    @classmethod
    def _never(cls, value: list[IntentName]) -> list[IntentName]:
        never = [intent for intent in value if intent in NEVER_ACKNOWLEDGED]
        if never:
            raise _problem(f"{', '.join(never)} is never acknowledged (praise needs no answer from a bot, spam none, "
                           "and abuse goes to a person)")
        return value


class TriageRules(_Model):
    intents: dict[IntentName, list[Rule]] = Field(default_factory=dict)
    intent_order: list[IntentName] = Field(default_factory=lambda: list(DEFAULT_INTENT_ORDER))
    default_intent: IntentName = "other"
    sentiment: list[SentimentRule] = Field(default_factory=list)
    negation: Negation = Field(default_factory=Negation)
    not_requests: NotRequests = Field(default_factory=NotRequests)
    acknowledge: AckPolicy = Field(default_factory=AckPolicy)
    urgent: list[Rule] = Field(default_factory=list)
    desks: list[DeskRule] = Field(default_factory=list)
    references: dict[str, list[str]] = Field(default_factory=dict)
    personal_data: dict[str, list[str]] = Field(default_factory=dict)
    high_reach: HighReach = Field(default_factory=HighReach)

    @field_validator("references", "personal_data")
    @classmethod
    def _patterns(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for kind, patterns in value.items():
            _check_id(kind, "kind")
            for pattern in patterns:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise _problem(f"{kind}: invalid regular expression {pattern!r}: {exc}") from None
        return value
