"""The one normalized shape every channel turns its payload into.

Everything after ingest is channel-blind: it sees only ``Mention``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

CHANNELS = ("x", "facebook", "instagram", "messenger", "email", "form", "bluesky", "mastodon")

#: ``public`` is visible to everyone (a tweet, a comment); ``private`` is a DM, Messenger message, email or form.
VISIBILITIES = ("public", "private")


_TEXT_FIELDS = ("channel", "external_id", "conversation_id", "author_id", "text", "visibility", "author_handle",
                "author_name", "language", "reply_to", "subject", "raw_ref")


@dataclass(frozen=True)
class Mention:
    channel: str  # one of CHANNELS
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
    raw_ref: str = ""  # where the raw payload is kept (e.g. "inbound#<sqs message id>")
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
        return f"{self.channel}#{self.external_id}"

    @property
    def conversation_key(self) -> str:
        return f"{self.channel}#{self.conversation_id or self.external_id}"

    @property
    def identity_key(self) -> str:
        """The customer's identity on this channel (used to link channels later)."""
        return f"{self.channel}#{self.author_id}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["created_at"] = self.created_at.astimezone(timezone.utc).isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Mention:
        values = dict(data)
        values["created_at"] = datetime.fromisoformat(values["created_at"])
        return cls(**values)
