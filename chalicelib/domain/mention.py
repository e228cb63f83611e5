"""The one normalized shape every channel turns its payload into.

Everything after ingest is channel-blind: it sees only ``Mention``. A mention is checked where it is made, so that
nothing the processor could never store is accepted: each field that becomes part of a DynamoDB key is bounded here,
once, for every channel (``Unstorable``).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from chalicelib.domain.keys import ChannelKey
from chalicelib.domain.vocabulary import Channel as Channel

#: Every channel's id (``Channel``), in order; what each can do is in ``domain.channel_profiles``.
CHANNELS: tuple[Channel, ...] = tuple(Channel)

#: ``public`` is visible to everyone (a tweet, a comment); ``private`` is a DM, Messenger message, email or form.
VISIBILITIES = ("public", "private")


_TEXT_FIELDS = ("channel", "external_id", "conversation_id", "author_id", "text", "visibility", "author_handle",
                "author_name", "language", "reply_to", "subject", "raw_ref")

#: DynamoDB refuses a key attribute's value longer than these, in bytes of UTF-8, on a table and on its global
#: secondary indexes alike: every PutItem, GetItem or Query with it fails (ValidationException), however often it is
#: retried.
DYNAMODB_PARTITION_KEY_BYTES = 2048
DYNAMODB_SORT_KEY_BYTES = 1024
#: The longest value a mention may carry in a field a key is built from (``KEY_FIELDS``): the sort-key limit, so that
#: such a value fits as a sort key alone and as a partition key behind any prefix of ours (``<channel>#<external id>``,
#: ``msg#<channel>#<external id>``, ``<channel>#<author id>``, ``x@<handle>``). Platforms' real ids are far shorter:
#: an X id has 19 digits, a Bluesky at:// URI about 90 characters, an e-mail Message-ID at most 998.
MAX_KEY_FIELD_BYTES = DYNAMODB_SORT_KEY_BYTES
#: Fields a key is built from, each with what it is for a person reading a refusal.
KEY_FIELDS = {"external_id": "the message's id", "author_id": "the author's id",
              "conversation_id": "the conversation's id", "reply_to": "the id of the message it replies to",
              "author_handle": "the author's handle"}


class Unstorable(ValueError):
    """A message the store cannot hold (a key field longer than DynamoDB allows): refused where it arrives, never
    accepted and then retried onto a dead-letter queue. The message says which field, and its size."""


def key_fits(key: str) -> bool:
    """Whether ``key`` (an identity, an index key) is short enough to be a DynamoDB partition key."""
    return len(key.encode("utf-8")) <= DYNAMODB_PARTITION_KEY_BYTES


@dataclass(frozen=True)
class Mention:
    channel: str  # one of CHANNELS (``Channel``)
    external_id: str  # the platform's id of this message (tweet id, comment id, Message-ID, form submission id,
    #                   Bluesky post at:// URI, Mastodon status id)
    conversation_id: str  # the platform's thread: root tweet id, DM conversation, post id, email thread root
    author_id: str  # platform user id (X user id, Meta PSID/IGSID, email address, Bluesky DID, Mastodon acct)
    text: str
    created_at: datetime  # aware, UTC
    visibility: str = "public"
    author_handle: str = ""  # @handle / e-mail address, without the '@'
    author_name: str = ""
    language: str = ""  # BCP-47 if the platform says so ("en"), else ""
    reply_to: str = ""  # external id this message answers, if any
    followers: int = 0  # author's follower count if known (reach)
    subject: str = ""  # e-mail subject / form topic
    raw_ref: str = ""  # the inbound-queue message that carried it (e.g. "inbound#<sqs message id>")
    extra: dict[str, Any] = field(default_factory=dict)  # channel-specific fields needed to reply (page id, media id…)

    def __post_init__(self) -> None:
        """Everything processing relies on, checked where the mention is made (so a webhook refuses it with a 400
        instead of accepting what the processor could never store)."""
        for name in _TEXT_FIELDS:
            value = getattr(self, name)
            if not isinstance(value, str):
                raise ValueError(f"{name} must be text, not {type(value).__name__}")
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError(f"{name} is not valid Unicode text (a lone surrogate)") from None
        for name, meaning in KEY_FIELDS.items():
            size = len(getattr(self, name).encode("utf-8"))
            if size > MAX_KEY_FIELD_BYTES:
                raise Unstorable(f"{meaning} ({name}) is {size} bytes long; the store keeps at most "
                                 f"{MAX_KEY_FIELD_BYTES} bytes")
        if not isinstance(self.followers, int) or isinstance(self.followers, bool):
            raise ValueError("followers must be a whole number")
        if not isinstance(self.created_at, datetime):
            raise ValueError("created_at must be a datetime")
        if not isinstance(self.extra, dict):
            raise ValueError("extra must be an object")
        if self.channel not in CHANNELS:
            raise ValueError(f"unknown channel {self.channel!r}")
        if self.visibility not in VISIBILITIES:
            raise ValueError(f"unknown visibility {self.visibility!r}")
        if not self.external_id:
            raise ValueError("a mention needs an external id")
        if self.created_at.tzinfo is None:
            raise ValueError("created_at must be timezone-aware")

    @property
    def key(self) -> str:
        """Idempotency key: the second delivery of the same message is a no-op."""
        return str(ChannelKey.by_id(self.channel, self.external_id))

    @property
    def conversation_key(self) -> str:
        return str(ChannelKey.by_id(self.channel, self.conversation_id or self.external_id))

    @property
    def identity_key(self) -> str:
        """The customer's identity on this channel (used to link channels later)."""
        return str(ChannelKey.by_id(self.channel, self.author_id))

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = asdict(self)
        data["created_at"] = self.created_at.astimezone(timezone.utc).isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Mention:
        values = dict(data)
        values["created_at"] = datetime.fromisoformat(values["created_at"])
        return cls(**values)
