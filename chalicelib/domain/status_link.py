"""Status-page tokens: the ticket reference plus an HMAC over it (80 bits), checked in constant time."""
from __future__ import annotations

import base64
import hashlib
import hmac
import re

_TOKEN = re.compile(r"^(R[0-9A-Z]{8})-([a-z2-7]{16})$")


def _signature(key: str, ticket_id: str) -> str:
    digest = hmac.new(key.encode(), f"status:{ticket_id}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:10]).decode().lower()


def make_token(key: str, ticket_id: str) -> str:
    return f"{ticket_id}-{_signature(key, ticket_id)}"


def read_token(key: str, token: str) -> str | None:
    """The ticket id if the token is genuine, else None (callers answer a plain 404)."""
    match = _TOKEN.match(token or "")
    if not match:
        return None
    ticket_id, signature = match.groups()
    return ticket_id if hmac.compare_digest(_signature(key, ticket_id), signature) else None


def status_url(base_url: str, key: str, ticket_id: str) -> str:
    return f"{base_url}/s/{make_token(key, ticket_id)}"


class StatusLinks:
    """The customer's status links: one object holding the public base URL and the signing key."""

    def __init__(self, base_url: str, key: str):
        self._base_url = base_url.rstrip("/")
        self._key = key

    def url(self, ticket_id: str) -> str:
        return status_url(self._base_url, self._key, ticket_id)

    def ticket_id(self, token: str) -> str | None:
        """The ticket a token names, or None if the token is malformed or forged."""
        return read_token(self._key, token)
