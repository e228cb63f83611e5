"""JSON read from outside (a webhook's body, a platform's answer, a stored row), typed so that every read is checked.

``JsonObject`` is what ``json.loads`` makes of an object: string keys, values of any JSON type, read as ``object``
until a check says more. The getters below check the value's type with ``isinstance`` and treat a value of the
wrong type as missing (the default), so a reader never trusts a shape it did not check. Where a wrong type must be
refused rather than skipped, the caller reads the value itself (``obj.get(key)``) and checks it.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TypeGuard

#: A JSON object as ``json.loads`` returns it.
JsonObject = Mapping[str, object]


def is_object(value: object) -> TypeGuard[JsonObject]:
    """Whether ``value`` is a JSON object (``json.loads`` makes each one a ``dict`` with string keys)."""
    return isinstance(value, dict)


def text(obj: JsonObject, key: str, default: str = "") -> str:
    """The string at ``key``; ``default`` when it is missing or not a string."""
    value = obj.get(key)
    return value if isinstance(value, str) else default


def optional_text(obj: JsonObject, key: str) -> str | None:
    """The string at ``key``; None when it is missing or not a string."""
    value = obj.get(key)
    return value if isinstance(value, str) else None


def integer(obj: JsonObject, key: str, default: int = 0) -> int:
    """The whole number at ``key`` (a boolean is not one); ``default`` when it is missing or not a whole number."""
    value = obj.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def obj(parent: JsonObject, key: str) -> JsonObject:
    """The object at ``key``; an empty one when it is missing or not an object."""
    value = parent.get(key)
    return value if is_object(value) else {}


def items(parent: JsonObject, key: str) -> list[JsonObject]:
    """The objects in the list at ``key`` (anything else in it left out); empty when it is missing or not a list."""
    value = parent.get(key)
    return [item for item in value if is_object(item)] if isinstance(value, list) else []


def texts(parent: JsonObject, key: str) -> list[str]:
    """The strings in the list at ``key`` (anything else in it left out); empty when it is missing or not a list."""
    value = parent.get(key)
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def elements(value: object) -> Iterable[object]:
    """What a ``for`` loop walks in a JSON value: a list's items, an object's keys, a string's characters; a number,
    ``true``, ``false`` or ``null`` raises ``TypeError``, as the loop would (for readers that keep that refusal)."""
    if isinstance(value, (list, dict, str)):
        return value
    raise TypeError(f"'{type(value).__name__}' object is not iterable")


def stripped(value: object) -> str:
    """``value`` without surrounding spaces if it is text, else ``""``."""
    return value.strip() if isinstance(value, str) else ""


@dataclass(frozen=True)
class Checked:
    """Reads of a platform's JSON where a wrong shape is refused, not skipped: a ``ValueError`` naming the source and
    the path ("Meta webhook entry[0].id is missing"), so the raw event ends up on a dead-letter queue instead of
    being lost. One per parser (``channels.meta``, ``channels.whatsapp``)."""

    source: str  # what the message names: "Meta webhook", "WhatsApp webhook"

    def obj(self, value: object, path: str, *, required: bool = True) -> JsonObject:
        if value is None and not required:
            return {}
        if not is_object(value):
            raise ValueError(f"{self.source} {path} must be an object, got {type(value).__name__}")
        return value

    def list(self, value: object, path: str) -> list[object]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise ValueError(f"{self.source} {path} must be a list, got {type(value).__name__}")
        return value

    def id(self, value: object, path: str, *, required: bool = False) -> str:
        """Ids are strings; whole numbers (seen in hand-written test payloads) are accepted and converted."""
        if value is None or value == "":
            if required:
                raise ValueError(f"{self.source} {path} is missing")
            return ""
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise ValueError(f"{self.source} {path} must be a string id, got {type(value).__name__}")
        text = str(value).strip()
        if required and not text:
            raise ValueError(f"{self.source} {path} is empty")
        return text

    def text(self, value: object, path: str) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise ValueError(f"{self.source} {path} must be a string, got {type(value).__name__}")
        return value.strip()
