"""The dispatcher of messages waiting for their channel's rate (``dispatch_outbox``, every minute).

A message the rate cannot send now is not retried: it waits in the waiting room (``deliver.wait``), in its place —
urgent first, then the acknowledgements of first contacts, then the rest, the customer who wrote first going first
(``domain.outbound.waiting_order``). Every minute the dispatcher takes, per channel, the first waiting messages,
reserves each a slot of the rate (one token of the channel's bucket, ``SendAllowance.take(within=HORIZON)``: N
messages, N different slots) and hands it to the outbox queue delayed until that slot; the outbox sends it then
without taking another token. Waiting costs no SQS receive, so it never walks a message to the dead-letter queue,
and there is no thundering herd. An acknowledgement whose slot would come after the team is back expires instead
(``deliver.expire``: noted on the ticket, counted). Over the day's spend budget, the channel's messages wait for
the next day.

Nothing taken is lost: a message leaves the room (a conditional delete) only once it is on the outbox queue, or
expired, or parked; a run that fails or dies in between leaves it in its place for the next run. A failed call for
one message (throttled, timed out) leaves that one in its place and the dispatcher goes on with the rest: under
faults, one failure does not hold the whole room back a minute. Two dispatchers at
once (a slow run and the next) may both hand one message over: the outbox sends a key once, so that costs a slot
of the rate, never a second message."""
from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.history import Scheduled
from chalicelib.domain.mention import CHANNELS
from chalicelib.domain.outbound import OutboxItem
from chalicelib.services import Services
from chalicelib.store.ports import WaitingMessage
from chalicelib.telemetry import count, logger
from chalicelib.usecases.deliver import _note_on_ticket, _park, expire, price

#: How far ahead one dispatch reserves slots: more than the schedule's minute, so the rate never idles between two.
HORIZON = 90.0
#: The most messages one dispatch hands over per channel (a Lambda's minute; the next dispatch takes the rest).
MAX_PER_RUN = 600


def dispatch(svc: Services) -> dict[str, Any]:
    """Hand the waiting messages the rate can send within ``HORIZON`` to the outbox, each at its own slot; the
    counts per channel (``scheduled``, ``expired``, ``failed``) and what still waits. A message whose hand-over
    fails stays in its place for the next run and the others still go; a run that fails for every message it tries
    raises (the schedule's errors alarm)."""
    now = svc.now()
    summary: dict[str, Any] = {}
    errors: list[Exception] = []
    for channel in CHANNELS:
        outcome = _dispatch_channel(svc, channel, now, errors)
        if any(outcome.values()):
            summary[channel] = outcome
    if summary:
        logger.info("waiting messages dispatched", extra={"channels": summary})
    if errors:
        count("DispatchFailed", value=len(errors), total=True)
        if not any(o["scheduled"] or o["expired"] for o in summary.values()):
            raise errors[0]
    return summary


def _dispatch_channel(svc: Services, channel: str, now: datetime, errors: list[Exception]) -> dict[str, int]:
    rate = svc.rate_per_minute(channel)
    interval = timedelta(seconds=60.0 / rate)
    limit = min(MAX_PER_RUN, math.ceil(rate) + math.ceil(rate * HORIZON / 60.0))
    done: dict[str, int] = {"scheduled": 0, "expired": 0, "failed": 0}
    next_slot = now  # the slot the next message would get, as far as this dispatch knows
    waiting = svc.waiting.first(channel, limit)
    if not waiting:
        return {**done, "waiting": 0}
    for entry in waiting:
        try:
            outcome, next_slot = _hand_over(svc, channel, entry, now, rate, next_slot, interval)
        except Exception as exc:  # it stays in its place; the next run tries again
            errors.append(exc)
            done["failed"] += 1
            logger.exception("a waiting message was not handed over", extra={"channel": channel, "order": entry.order})
            continue
        if outcome == "full":
            break
        if outcome in done:
            done[outcome] += 1
    if done["scheduled"]:
        count("OutboundScheduled", value=done["scheduled"], channel=channel)
    return {**done, "waiting": svc.waiting.count(channel)}


def _hand_over(svc: Services, channel: str, entry: WaitingMessage, now: datetime, rate: float, next_slot: datetime,
               interval: timedelta) -> tuple[str, datetime]:
    """One waiting message: ``scheduled`` on the outbox at its slot, ``expired``, ``parked``, ``taken`` (another
    dispatcher handed it over), or ``full`` (the rate is reserved up to the horizon, or the day's budget is spent:
    it stays, and so do the ones behind it); and the slot the next message would get."""
    message = entry.message
    try:
        item = OutboxItem.from_dict(message)
    except ValueError as exc:  # never a message the room was given; parked rather than lost
        _park(svc, message, f"not an outbox message: {exc}")
        svc.waiting.take(channel, entry.order)
        return "parked", next_slot
    if item.expires_at is not None and item.expires_at <= next_slot:
        expire(svc, item, now)  # no token spent on a message that would go out after the team is back
        svc.waiting.take(channel, entry.order)
        return "expired", next_slot
    allowance = svc.allowance.take(channel, now, rate, price(svc, item, now), within=HORIZON)
    if not allowance.allowed:  # the rate is reserved up to the horizon (or the day's budget is spent)
        if allowance.over_budget:
            count("SpendBudgetReached", channel=channel, total=True)
        return "full", next_slot
    slot = now + timedelta(seconds=allowance.slot_in)
    if item.expires_at is not None and item.expires_at <= slot:  # later than this dispatch could tell
        expire(svc, item, now)
        svc.waiting.take(channel, entry.order)
        return "expired", slot + interval
    # queued first, taken out of the room after: a run that dies in between leaves it in the room, and the next run
    # hands it over again (the outbox sends a key once: a second hand-over costs a slot, never a second send)
    svc.queues.send_outbox(replace(item, slot=slot).to_dict(), delay=math.ceil(allowance.slot_in))
    if svc.waiting.take(channel, entry.order) is None:  # another dispatcher handed it over too
        return "taken", slot + interval
    _note_on_ticket(svc, item.ticket_id, Scheduled(now, item.kind, slot))
    return "scheduled", slot + interval
