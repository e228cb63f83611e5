"""Stage local: inject a Bluesky or Mastodon mention as if the poller had read it (the local stack never calls
either platform). The body is a notification as the platform's API returns it, or a short form the platform's
shape is built from; either way it goes through the poller's own parser and onto the same inbound queue."""
from __future__ import annotations

from typing import Any

from chalicelib import json_input
from chalicelib.channels import bluesky, mastodon
from chalicelib.services import Services
from chalicelib.usecases.errors import Invalid, Malformed, NotFound, TooLarge
from chalicelib.usecases.ingest import enqueue_mentions

MAX_BODY = 64 * 1024
CHANNELS = ("bluesky", "mastodon")


def inject(svc: Services, channel: str, raw_body: bytes | None) -> dict[str, Any]:
    """``{"handle", "text", ...}`` (Bluesky) or ``{"acct", "text", "visibility"?, ...}`` (Mastodon), or the
    platform's own notification object → 202 ``{"queued": "<channel>#<id>", "notification": {...}}``."""
    settings = svc.settings
    if settings.stage != "local":
        raise NotFound(f"/local/{channel}/mentions exists only in stage local")
    if channel not in CHANNELS:
        raise NotFound(f"no local injection for {channel!r} (use {' or '.join(CHANNELS)})")
    body = raw_body or b""
    if len(body) > MAX_BODY:
        raise TooLarge(f"a local mention is at most {MAX_BODY} bytes")
    try:
        data = json_input.load(body)
    except json_input.BadJson as exc:
        raise Malformed(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise Malformed("the body must be a JSON object")
    now = svc.now()
    try:
        if channel == "bluesky":
            notification = bluesky.local_notification(data, now=now)
            mention = bluesky.parse_notification(notification, brand=frozenset({settings.bluesky_handle}),
                                                 source="local")
        else:
            notification = mastodon.local_notification(data, now=now, instance_url=settings.mastodon_instance_url)
            brand = frozenset({settings.mastodon_account} if settings.mastodon_account else set())
            mention = mastodon.parse_notification(notification, instance_url=settings.mastodon_instance_url,
                                                  brand=brand, source="local")
    except (bluesky.NotAMention, mastodon.NotAMention) as exc:
        raise Invalid(str(exc), details={"body": str(exc)}) from None
    if mention is None:
        raise Invalid("not a mention of the brand (another kind of notification, or the brand's own post)")
    enqueue_mentions(svc, [mention], source="local")
    return {"queued": mention.key, "external_id": mention.external_id, "notification": notification}
