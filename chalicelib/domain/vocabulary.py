"""The product's words, one type each: the channels a customer writes on, a ticket's status, a message's priority and
intent, the tone of an automatic reply, the kinds of acknowledgement, and how a platform counts a reply's length.

Each is a ``StrEnum``: a member *is* its string (``Channel.X == "x"``, ``f"{Priority.URGENT}" == "urgent"``,
``json.dumps(Intent.SPAM) == '"spam"'``), so rows, queue messages, logs and the brand file read and write exactly
the text they always did, while the code says which word it means and a type checker sees a misspelling. Text from
outside (a stored row, a request, the brand file) becomes a member where it is read: ``Intent("praise")`` raises
ValueError for a word that is not one.

The modules that used to hold these words as plain tuples keep them, derived from here (``mention.CHANNELS``,
``ticket.STATUSES``, ``config.INTENTS``, ``triage.TONES``, ``outbound.ACK_KINDS``). What each channel can do and
how it is named is in :mod:`chalicelib.domain.channel_profiles`.
"""
from __future__ import annotations

from enum import StrEnum
from typing import Literal, TypeAlias

__all__ = ["AckKind", "Channel", "Counting", "Intent", "MaybeTone", "Priority", "TicketStatus", "Tone", "maybe_tone"]


class Channel(StrEnum):
    """Where a customer writes to the brand (``Mention.channel``), in the order the product lists them."""

    X = "x"
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    MESSENGER = "messenger"
    EMAIL = "email"
    FORM = "form"  # the brand's web contact form, answered by e-mail
    BLUESKY = "bluesky"
    MASTODON = "mastodon"
    WHATSAPP = "whatsapp"  # WhatsApp Cloud API: private chats, free-form only within 24 h of the customer's message
    THREADS = "threads"  # Meta's Threads: public replies and mentions


class TicketStatus(StrEnum):
    """Where a ticket is in its life (``domain.ticket``: the transitions between them)."""

    WAITING = "waiting"  # in its desk's queue
    CLAIMED = "claimed"  # an agent holds it
    REPLIED = "replied"  # an agent answered; waiting for the customer
    RESOLVED = "resolved"
    MERGED = "merged"  # taken into another ticket of the same customer (``Ticket.merged_into``)


class Priority(StrEnum):
    URGENT = "urgent"
    NORMAL = "normal"


class Intent(StrEnum):
    """What a message is (triage's ``intent``, an agent's label)."""

    COMPLAINT = "complaint"
    QUESTION = "question"
    PRAISE = "praise"
    SPAM = "spam"
    ABUSE = "abuse"
    OTHER = "other"  # chit-chat, news, a retweet: it asks the brand nothing


class Tone(StrEnum):
    """How an automatic reply reads: apology and help (a confident complaint), "question received", a thank-you
    (confident praise, when the brand thanks), or a neutral holding reply that reads right to a complaint and to
    praise alike."""

    APOLOGY = "apology"
    QUESTION = "question"
    THANKS = "thanks"
    NEUTRAL = "neutral"


#: A tone, or ``""``: no tone decided (the message is not answered, or a ticket from before tones).
MaybeTone: TypeAlias = Tone | Literal[""]


def maybe_tone(value: str | None) -> MaybeTone:
    """``value`` as a tone; empty (or None) stays ``""``."""
    return Tone(value) if value else ""


class AckKind(StrEnum):
    """The kinds of the one acknowledgement per open case (ADR 0004): out of hours, busy in hours, closing time."""

    ACK = "ack"
    BUSY = "busy"
    CLOSING = "closing"


class Counting(StrEnum):
    """How a platform counts the length of a reply (``domain.textlength``)."""

    CHARACTERS = "characters"  # code points
    X_WEIGHTED = "x_weighted"  # X: a URL is 23, CJK and emoji are 2
    GRAPHEMES = "graphemes"  # Bluesky: what a reader sees as one character; a link in full
    MASTODON = "mastodon"  # a URL is 23, ``@user@instance`` is ``@user``, plus the customer's @mention
    THREADS = "threads"  # characters, an emoji as its UTF-8 bytes (Threads API, "Posts": limitations)
