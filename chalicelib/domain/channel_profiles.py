"""What each channel is and can do, in one table (``PROFILES``): how customers and agents see it named, how long a
reply may be and how the platform counts it, whether a public message can be answered privately, how long an
automatic acknowledgement may be, and the forms its customers' identities take (``domain.identity``).

Every place that needs a channel fact reads it here: the agents' reply limits and refusals (``domain.agent``), the
acknowledgement's size (``domain.ack``), the identities an agent may type (``domain.identity``), the inbox's
private-reply option and counting hints (``usecases.desk``), the channel names on the customer's status page
(``usecases.status``), in the web inbox (``web.inbox_page``) and in the terminal inbox (``tools.inbox``).

Names, one wording per audience: customers read "e-mail" and "our web form" (the brand speaking: "We received your
message by e-mail", "… through our web form", "… on X"), agents read "e-mail" and "the web form"; every other channel
is its platform's name for both.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from types import MappingProxyType

from chalicelib.domain.textlength import (
    BLUESKY_LIMIT,
    BLUESKY_MAX_BYTES,
    MASTODON_LIMIT,
    MASTODON_MENTION_RESERVE,
    THREADS_LIMIT,
    WHATSAPP_LIMIT,
    X_LIMIT,
    measure,
)
from chalicelib.domain.vocabulary import Channel, Counting

__all__ = ["PROFILES", "ChannelProfile", "ReplyForm", "post_length", "profile"]

#: The longest automatic acknowledgement composed for a channel that does not count like a post (``domain.ack``).
LONG_ACK_LIMIT = 8000


@dataclass(frozen=True)
class ReplyForm:
    """One way of answering on a channel (publicly or privately), as the platform limits it."""

    #: The longest reply the platform accepts, in its own count.
    limit: int
    counting: Counting = Counting.CHARACTERS
    #: What the limit is the limit of, for an agent whose reply is too long ("an X post allows 280").
    what: str = ""
    #: How the count differs from plain characters, in a refusal (after the count: "286 characters (links …)").
    counted: str = ""
    #: How the platform counts, for the agent writing the reply (the inbox shows it beside the reply box).
    hint: str = ""
    #: A cap in bytes of UTF-8 besides the count (a Bluesky post's record).
    max_bytes: int | None = None

    @property
    def unit(self) -> str:
        """What the count counts, in words."""
        return "graphemes" if self.counting is Counting.GRAPHEMES else "characters"

    def length(self, text: str) -> int:
        return measure(self.counting, text)


@dataclass(frozen=True)
class ChannelProfile:
    channel: Channel
    #: The channel's name where a customer reads it ("e-mail", "our web form").
    customer_name: str
    #: The channel's name where an agent reads it ("Reply to Ada on the web form").
    agent_name: str
    #: A reply to a public message (a post, a comment); on a channel whose messages are all private, the same rule.
    public: ReplyForm
    #: A private reply (a direct message, an e-mail).
    private: ReplyForm
    #: Whether an agent may answer a public message privately (X DM, Facebook/Instagram private reply, Mastodon
    #: direct-visibility reply). Messenger, e-mail and the form are private already; Bluesky has no private reply.
    can_reply_privately: bool
    #: The longest automatic acknowledgement (``domain.ack``), counted as a public reply is.
    ack_limit: int
    #: What the platform's id of a customer is (``<channel>#<id>``, ``Mention.author_id``).
    id_is: str
    #: An example of the ``<channel>@<handle>`` identity, where customers have handles we may link ("" where not).
    handle_example: str = ""
    #: The customer's id is their e-mail address (``email#ada@example.org``).
    address_id: bool = False
    #: How the customer wrote, for them to read ("We received your message by e-mail"): "on X" unless set.
    via: str = ""
    #: How long after the customer's last message on the channel a free-form message may still go (WhatsApp's
    #: customer-service window: 24 hours, then an approved template only); None: no such window
    #: (``domain.service_window``).
    service_window: timedelta | None = None
    #: The platform reports what became of each message by its id alone (WhatsApp's statuses): every message sent
    #: is indexed by the id the platform gave it, acknowledgements included (ADR 0028).
    reports_delivery: bool = False

    @property
    def customer_via(self) -> str:
        return self.via or f"on {self.customer_name}"

    @property
    def has_handles(self) -> bool:
        return bool(self.handle_example)

    def reply(self, private: bool) -> ReplyForm:
        return self.private if private else self.public


_X_POST = ReplyForm(X_LIMIT, Counting.X_WEIGHTED, "an X post", " (links count as 23, emoji as 2)",
                    "X counts links as 23 characters and emoji as 2")
_BLUESKY_POST = ReplyForm(BLUESKY_LIMIT, Counting.GRAPHEMES, "a Bluesky post",
                          " (graphemes: an emoji or an accented letter is 1, a link counts in full)",
                          "Bluesky counts graphemes (an emoji is 1) and links in full", max_bytes=BLUESKY_MAX_BYTES)
_MASTODON_POST = ReplyForm(MASTODON_LIMIT, Counting.MASTODON, "a Mastodon post",
                           f" (links count as 23, plus up to {MASTODON_MENTION_RESERVE} for the customer's @mention)",
                           "Mastodon counts links as 23 and the customer's @mention the reply starts with")
_THREADS_POST = ReplyForm(THREADS_LIMIT, Counting.THREADS, "a Threads reply",
                          " (an emoji counts as its UTF-8 bytes, 4 or more)",
                          "Threads counts an emoji as its UTF-8 bytes (4 or more) and links in full")
_WHATSAPP = ReplyForm(WHATSAPP_LIMIT, what="a WhatsApp message")
_MESSENGER = ReplyForm(2_000, what="a Messenger message")
_EMAIL = ReplyForm(20_000, what="an e-mail")

PROFILES: Mapping[Channel, ChannelProfile] = MappingProxyType({p.channel: p for p in (
    ChannelProfile(Channel.X, "X", "X", public=_X_POST, private=ReplyForm(10_000, what="an X direct message"),
                   can_reply_privately=True, ack_limit=X_LIMIT, id_is="X user id", handle_example="x@pat"),
    ChannelProfile(Channel.FACEBOOK, "Facebook", "Facebook",
                   public=ReplyForm(8_000, what="a Facebook comment reply"),
                   private=ReplyForm(2_000, what="a Facebook private reply"),  # it opens Messenger
                   can_reply_privately=True, ack_limit=LONG_ACK_LIMIT, id_is="page-scoped id (PSID)"),
    ChannelProfile(Channel.INSTAGRAM, "Instagram", "Instagram",
                   public=ReplyForm(2_200, what="an Instagram comment reply"),
                   private=ReplyForm(1_000, what="an Instagram direct message"),
                   can_reply_privately=True, ack_limit=LONG_ACK_LIMIT, id_is="Instagram-scoped id (IGSID)"),
    ChannelProfile(Channel.MESSENGER, "Messenger", "Messenger", public=_MESSENGER, private=_MESSENGER,
                   can_reply_privately=False, ack_limit=LONG_ACK_LIMIT, id_is="page-scoped id (PSID)"),
    ChannelProfile(Channel.EMAIL, "e-mail", "e-mail", public=_EMAIL, private=_EMAIL,
                   can_reply_privately=False, ack_limit=LONG_ACK_LIMIT, via="by e-mail", id_is="e-mail address",
                   address_id=True),
    ChannelProfile(Channel.FORM, "our web form", "the web form", public=_EMAIL, private=_EMAIL,  # answered by e-mail
                   can_reply_privately=False, ack_limit=LONG_ACK_LIMIT, via="through our web form",
                   id_is="e-mail address", address_id=True),
    ChannelProfile(Channel.BLUESKY, "Bluesky", "Bluesky", public=_BLUESKY_POST, private=_BLUESKY_POST,
                   can_reply_privately=False, ack_limit=BLUESKY_LIMIT, id_is="DID",
                   handle_example="bluesky@pat.bsky.social"),
    ChannelProfile(Channel.MASTODON, "Mastodon", "Mastodon", public=_MASTODON_POST, private=_MASTODON_POST,
                   can_reply_privately=True, ack_limit=MASTODON_LIMIT,
                   id_is="account id on the brand's instance", handle_example="mastodon@pat@mastodon.social"),
    ChannelProfile(Channel.WHATSAPP, "WhatsApp", "WhatsApp", public=_WHATSAPP, private=_WHATSAPP,
                   can_reply_privately=False, ack_limit=WHATSAPP_LIMIT,
                   id_is="WhatsApp id (wa_id, the customer's phone number: personal data)",
                   service_window=timedelta(hours=24), reports_delivery=True),
    ChannelProfile(Channel.THREADS, "Threads", "Threads", public=_THREADS_POST, private=_THREADS_POST,
                   can_reply_privately=False, ack_limit=THREADS_LIMIT,
                   id_is="Threads username (the account's Instagram username: the API names no other id)",
                   handle_example="threads@pat.rides"),
)})


def profile(channel: str) -> ChannelProfile | None:
    """The profile of ``channel`` (a ``Channel`` or its text), or None for a word that is no channel."""
    try:
        return PROFILES[Channel(channel)]
    except ValueError:
        return None


def post_length(channel: str, text: str) -> int:
    """``text``'s length as ``channel`` counts a public post (an unknown channel: characters)."""
    found = profile(channel)
    return found.public.length(text) if found is not None else len(text)
