"""Service-level targets: when a response is due, and whether it is late.

Targets come from ``sla`` in the brand configuration, per channel (falling back to ``default``) and
priority. With ``business_hours: true`` only minutes during which the ticket's desk is open count:
the due time is found by walking the desk's open periods, not minute by minute. A desk that does not
open within the calendar's horizon falls back to wall-clock minutes so that a due time always exists.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from chalicelib.domain.config import BrandConfig, SlaTarget
from chalicelib.domain.rota import Calendar

__all__ = ["first_response_due", "next_response_due", "response_due", "is_breached", "minutes_late"]


def response_due(
    since: datetime,
    minutes: float,
    business_hours: bool,
    desk: str,
    calendar: Calendar,
) -> datetime:
    """``since`` plus ``minutes``, counting only the desk's open minutes when ``business_hours``."""
    if since.tzinfo is None:
        raise ValueError("SLA times must be timezone-aware")
    since = since.astimezone(timezone.utc)
    if business_hours:
        due = calendar.add_open_minutes(desk, since, minutes)
        if due is not None:
            return due
    return since + timedelta(minutes=minutes)


def _target(config: BrandConfig, channel: str, priority: str) -> SlaTarget:
    return config.sla_target(channel, priority)


def first_response_due(
    created_at: datetime,
    channel: str,
    priority: str,
    desk: str,
    config: BrandConfig,
    calendar: Calendar,
) -> datetime:
    """When the first human response to a ticket created at ``created_at`` is due (UTC)."""
    target = _target(config, channel, priority)
    return response_due(created_at, target.first_response, target.business_hours, desk, calendar)


def next_response_due(
    last_customer_message_at: datetime,
    channel: str,
    priority: str,
    desk: str,
    config: BrandConfig,
    calendar: Calendar,
) -> datetime:
    """When the next response is due after the customer's latest message (UTC)."""
    target = _target(config, channel, priority)
    return response_due(last_customer_message_at, target.next_response, target.business_hours, desk, calendar)


def is_breached(due: datetime, now: datetime) -> bool:
    """True once ``now`` is past ``due``."""
    return now > due


def minutes_late(due: datetime, now: datetime) -> float:
    """How many minutes past ``due`` it is at ``now`` (0 if not yet due)."""
    return max(0.0, (now - due).total_seconds() / 60.0)
