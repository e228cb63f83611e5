"""What use cases raise when they refuse a request. Each says what went wrong, in words a person understands;
``app.py`` alone turns them into HTTP statuses (one table, ``ERROR_STATUS``)."""
from __future__ import annotations

from typing import Any


class Refused(Exception):
    """A request the product refuses. ``details``: per-field problems, when there are several."""

    def __init__(self, message: str, details: Any = None):
        super().__init__(message)
        self.message = message
        self.details = details


class Malformed(Refused):
    """The request cannot be read: empty, not JSON, nested too deeply, a required parameter missing."""


class NotAuthenticated(Refused):
    """A signature or credential is missing, forged or wrong."""


class Forbidden(Refused):
    """Authenticated, or at least identified, but not allowed to do this (e.g. a wrong verify token)."""


class NotFound(Refused, LookupError):
    """The named thing (desk, incident, customer, ticket) does not exist."""


class Conflict(Refused):
    """The thing is not in a state that allows this (e.g. resolving a resolved incident)."""


class TooLarge(Refused):
    """The request is larger than the product accepts."""


class Unsupported(Refused):
    """The request's content type is not one the endpoint reads."""


class Invalid(Refused):
    """Readable, but its fields fail validation (``details`` lists them)."""


class TooManyRequests(Refused):
    """The same client asked too often; try again later."""
