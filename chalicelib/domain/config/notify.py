"""The ``notify`` section of the brand file: where a desk's work goes besides the inbox — a Slack channel, a
Microsoft Teams channel, a signed webhook — named once under ``destinations`` and chosen per desk (``desks``) or
per team (``teams``: every desk the team covers, while it is on shift).

A destination's credentials are never in the file: ``secret`` names the secret that holds them
(``NOTIFY_<NAME>``; SSM ``notify/<name>`` under the stage's parameter prefix, the environment in stage local):
a Slack incoming-webhook URL, or a bot token (``xoxb-…``) with ``channel``; a Teams Workflows webhook URL; a
webhook's HMAC key. The customer's words and name stay out of every message unless the destination says
``include_customer_text: true``.

The references (a desk's or a team's destination names, and the desks and teams themselves) are checked by
:func:`notify_problems`, called from the brand file's cross-section checks, so each is reported at its own line.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from chalicelib.domain.config.base import Location, _Model, _problem

DestinationKind = Literal["slack", "teams", "webhook"]
KINDS: tuple[str, ...] = ("slack", "teams", "webhook")
#: A destination's name: lowercase words joined by ``-`` or ``_`` (``care-slack``).
NAME_RE = re.compile(r"^[a-z][a-z0-9_-]*$")
#: The secret a destination names: ``NOTIFY_`` and capitals, digits and ``_`` (``NOTIFY_CARE_SLACK``).
SECRET_RE = re.compile(r"^NOTIFY_[A-Z0-9]+(?:_[A-Z0-9]+)*$")
#: Where a webhook may point besides https: the machine itself (a receiver under test, the local stack).
LOCAL_HTTP = ("http://127.0.0.1", "http://localhost")
_SLACK_CHANNEL_RE = re.compile(r"^[#@]?[A-Za-z0-9._-]{1,80}$")


class Destination(_Model):
    """One place notices go: ``kind`` says how they are posted; ``name`` is the key it is filed under."""

    name: str = ""  # the key under ``destinations`` (filled in from it)
    kind: DestinationKind
    secret: str
    channel: str | None = None  # slack: post with the bot token in this channel (chat.postMessage, threaded)
    url: str | None = None  # webhook: the receiver's address
    include_customer_text: bool = False  # the customer's words and name in the message

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: str) -> str:
        if not SECRET_RE.match(value):
            raise _problem(f"secret {value!r} must be a secret's name such as NOTIFY_CARE_SLACK (NOTIFY_ then "
                           "capital letters, digits and _), never the secret itself")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        local = any(value == base or value.startswith((base + "/", base + ":")) for base in LOCAL_HTTP)
        if not (value.startswith("https://") and len(value) > len("https://")) and not local:
            raise _problem(f"url {value!r} must be an https:// address (http:// only to 127.0.0.1 or localhost)")
        return value

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        if value is not None and not _SLACK_CHANNEL_RE.match(value):
            raise _problem(f"channel {value!r} must be a Slack channel id (C0123ABCD) or name (#care)")
        return value

    @model_validator(mode="after")
    def _fits_kind(self) -> Destination:
        if self.kind == "webhook" and not self.url:
            raise _problem("a webhook destination needs url: the receiver's https:// address (its secret is the "
                           "HMAC key)")
        if self.kind != "webhook" and self.url is not None:
            where = "the incoming-webhook URL" if self.kind == "slack" else "the Workflows webhook URL"
            raise _problem(f"a {self.kind} destination takes no url: {where} is a credential, kept in its secret "
                           f"{self.secret}")
        if self.kind != "slack" and self.channel is not None:
            raise _problem(f"channel is for a slack destination with a bot token, not for kind {self.kind}")
        return self


class NotifyConfig(_Model):
    """``notify``: the destinations by name, and which desks and teams post to them (none by default)."""

    destinations: dict[str, Destination] = Field(default_factory=dict)
    desks: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    teams: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    @field_validator("destinations", mode="before")
    @classmethod
    def _named(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        named: dict[Any, Any] = {}
        for name, entry in value.items():
            if not isinstance(name, str) or not NAME_RE.match(name):
                raise _problem(f"invalid destination name {name!r}: use lowercase letters, digits, - and _, "
                               "starting with a letter")
            if isinstance(entry, Mapping) and "name" in entry:
                raise _problem(f"destination {name!r}: its name is its key; remove name:")
            named[name] = {**entry, "name": name} if isinstance(entry, Mapping) else entry
        return named

    @field_validator("desks", "teams", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {key: [names] if isinstance(names, str) else names for key, names in value.items()}
        return value

    def destinations_for(self, desk: str, teams: Iterable[str]) -> tuple[Destination, ...]:
        """Where a notice about ``desk`` goes: the desk's own destinations, then those of each of ``teams`` (the
        teams on shift for it), each once, in that order."""
        names = [*self.desks.get(desk, ())]
        for team in teams:
            names.extend(self.teams.get(team, ()))
        return tuple(self.destinations[name] for name in dict.fromkeys(names) if name in self.destinations)

    @property
    def enabled(self) -> bool:
        """Whether any desk or team posts anywhere."""
        return any(self.desks.values()) or any(self.teams.values())


def notify_problems(notify: Any, desks: Mapping[Any, Any], teams: Mapping[Any, Any]) -> list[tuple[Location, str]]:
    """``notify``'s references, on the raw section: every name under ``desks`` and ``teams`` a destination, every
    desk and team one the file defines."""
    if not isinstance(notify, Mapping):
        return []
    raw_destinations = notify.get("destinations")
    known = list(raw_destinations) if isinstance(raw_destinations, Mapping) else []
    problems: list[tuple[Location, str]] = []
    for section, ids, what in (("desks", desks, "desk"), ("teams", teams, "team")):
        entries = notify.get(section)
        if not isinstance(entries, Mapping):
            continue
        for key, names in entries.items():
            if key not in ids:
                defined = ", ".join(map(str, ids)) or "none"
                problems.append((("notify", section, key), f"unknown {what} {key!r} (the file's {section}: "
                                                           f"{defined})"))
            if isinstance(names, str):
                names = [names]
            for i, name in enumerate(names if isinstance(names, list | tuple) else []):
                if name not in known:
                    listed = ", ".join(map(str, known)) if known else "none defined under notify.destinations"
                    problems.append((("notify", section, key, i),
                                     f"{what} {key!r} names unknown destination {name!r} (destinations: {listed})"))
    return problems
