"""What the X, Bluesky and Mastodon pollers share: the rate-limit pause, the cursor saved after each queued page
(with when to resume once the page spent the rate-limit budget), one clear error per run for a refused credential,
and skipping a notification that cannot be read without stopping its page."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.channels.base import MentionsPage, NotificationsPage, PlatformAuthError, PlatformError, RateLimited
from chalicelib.services import Services
from chalicelib.telemetry import count, logger

#: The first poll of an account reads only what was written in this window: older notifications are history the
#: team has seen in the platform's own app, and would open tickets nobody is waiting on.
FIRST_POLL_LOOKBACK_HOURS = 24


def paused(svc: Services, platform: str, cursor: dict[str, Any]) -> dict[str, Any] | None:
    """The answer of a run that must not call the platform (its rate limit resets later), else None."""
    resume_after = cursor.get("resume_after")
    if not resume_after:
        return None
    try:
        until = datetime.fromisoformat(str(resume_after))
    except ValueError:
        cursor.pop("resume_after", None)
        return None
    if svc.now() < until:
        count(f"{platform}PollSkippedRateLimited")
        return {"skipped": f"rate limited until {resume_after}"}
    cursor.pop("resume_after", None)
    return None


def rate_limited(svc: Services, platform: str, name: str, cursor: dict[str, Any], limited: RateLimited,
                 result: dict[str, Any]) -> dict[str, Any]:
    """Record when to resume (never sleep in a Lambda) and end the run."""
    cursor["resume_after"] = limited.reset_at.isoformat()
    svc.cursors.put(name, cursor)
    count(f"{platform}PollRateLimited")
    logger.warning(f"{platform} rate limit reached", extra={"resume_after": limited.reset_at.isoformat()})
    return {**result, "rate_limited_until": limited.reset_at.isoformat()}


def checkpoint(svc: Services, name: str, cursor: dict[str, Any], page: MentionsPage | NotificationsPage) -> bool:
    """Save the cursor once a page is queued; when that page spent the rate-limit budget, record when to resume
    too. True if the run must stop here."""
    spent = page.rate_limit_remaining is not None and page.rate_limit_remaining < 1 and page.rate_limit_reset
    if spent and page.rate_limit_reset is not None:
        cursor["resume_after"] = page.rate_limit_reset.isoformat()
    svc.cursors.put(name, cursor)
    return bool(spent)


def failed(platform: str, secret: str, error: PlatformError, result: dict[str, Any]) -> dict[str, Any]:
    """One clear line and one metric for a run the platform refused; the cursor stays, the next run tries again (a
    scheduled run that returns is not retried, so a revoked credential never becomes a crash loop)."""
    if isinstance(error, PlatformAuthError):
        count(f"{platform}PollAuthFailed")
        logger.error(f"{platform} refused the account's credentials: update the SSM parameter {secret}",
                     extra={"status": error.status, "error": str(error)[:300]})
        return {**result, "error": f"{platform} refused the credentials ({secret}): {error}"}
    count(f"{platform}PollFailed")
    logger.warning(f"{platform} poll failed; the next run tries again",
                   extra={"status": error.status, "error": str(error)[:300]})
    return {**result, "error": f"{platform} poll failed: {error}"}


def skipped(platform: str, name: str, reason: str) -> None:
    """A notification that cannot be read: counted and named in the log; the rest of its page goes on."""
    count(f"{platform}NotificationsSkipped")
    logger.warning(f"{platform} notification skipped: {reason}", extra={"notification": name[:300],
                                                                         "reason": reason[:300]})
