"""Errors use cases raise for the HTTP layer to map."""


class NotFound(LookupError):
    """The named thing (desk, incident, customer) does not exist: HTTP 404."""
