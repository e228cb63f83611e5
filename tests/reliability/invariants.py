"""The product's guarantees as checks over the real stores and queues, usable after any scenario.

Everything is read through the typed ports of ``Services`` (mentions, tickets, customers' open-ticket pointers, the
acknowledgement ledger, the outbox ledger, the sandbox outbox) and through SQS itself (desk queues, dead-letter
queues). What only the outside world can know — which webhook deliveries were answered 200, what reached a platform,
which metrics were emitted — is passed in as ``Observed``. ``check`` returns the violations as sentences (empty
when every guarantee holds) with the figures behind them.

Run it on a quiet system: nothing in flight on the inbound or outbox queue.
"""
from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.domain.ticket import CLAIMED, MERGED, Ticket
from chalicelib.services import Services

ACK_PREFIX = "ack#"  # usecases.acknowledge.ack_key: every kind (ack, closing, busy) shares one key per open case
TOKEN = re.compile(r"R[0-9A-Z]{8}-[a-z2-7]{16}")  # a status-page token (domain.status_link)
STATUS_PATH = re.compile(r"/s/[A-Za-z0-9_.-]+")


@dataclass
class Observed:
    """What the harness saw from outside the product."""

    accepted: set[str] = field(default_factory=set)  # mention keys a webhook answered 200 for
    sends: Counter[str] | None = None  # what reached a platform, per idempotency key (the senders' side)
    metrics: Counter[str] | None = None  # emitted metrics: "Name" and "Name|dimension=value"
    handler_errors: Counter[str] = field(default_factory=Counter)  # invocations that raised, per queue (Lambda Errors)
    # just before the dead-letter queues were redriven: what had reached a platform and what the sandbox outbox had
    # sent, per idempotency key, and when the redrive began (None: no redrive to check)
    sends_before_redrive: Counter[str] | None = None
    sandbox_before_redrive: Counter[str] | None = None
    redrive_at: datetime | None = None


@dataclass
class Findings:
    violations: list[str] = field(default_factory=list)
    figures: dict[str, int] = field(default_factory=dict)
    ticket_ids: set[str] = field(default_factory=set)

    def fail(self, message: str) -> None:
        self.violations.append(message)


def peek(sqs: Any, queue: str) -> list[dict[str, Any]]:
    """Every visible message of a queue, left on it (visible again a second later; one more receive each)."""
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    seen: dict[str, dict[str, Any]] = {}
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=1,
                                    AttributeNames=["All"]).get("Messages", [])
        fresh = [m for m in batch if m["MessageId"] not in seen]
        if not fresh:
            return list(seen.values())
        for message in fresh:
            seen[message["MessageId"]] = message


def _bodies(messages: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for message in messages:
        try:
            body = json.loads(message["Body"])
        except ValueError:
            body = {"unreadable": message["Body"][:200]}
        out.append(body if isinstance(body, dict) else {"unreadable": str(body)[:200]})
    return out


def _mention_keys(svc: Services, envelope: dict[str, Any]) -> list[str]:
    from chalicelib.usecases.process import parse_envelope

    try:
        return [m.key for m in parse_envelope(svc, envelope)]
    except Exception:  # an envelope the processor cannot read: it names no mention
        return []


def all_tickets(svc: Services, seeds: Iterable[str]) -> dict[str, Ticket]:
    """The open tickets, the tickets with these ids, and every ticket they were merged into."""
    tickets: dict[str, Ticket] = {t.ticket_id: t for t in svc.tickets.open_tickets()}
    todo = [ticket_id for ticket_id in seeds if ticket_id]
    while todo:
        ticket_id = todo.pop()
        ticket = tickets.get(ticket_id) or svc.tickets.get(ticket_id)
        if ticket is None:
            continue
        tickets[ticket_id] = ticket
        if ticket.merged_into and ticket.merged_into not in tickets:
            todo.append(ticket.merged_into)
    return tickets


def _holder(svc: Services, key: str, identity: str, cache: dict[str, list[Ticket]]) -> str | None:
    """The ticket that holds a mention, among the tickets of its author's customer (as an agent would find it)."""
    customer_id = svc.customers.lookup(identity)
    if customer_id is None:
        return None
    if customer_id not in cache:
        cache[customer_id] = svc.tickets.for_customer(customer_id)
    return next((t.ticket_id for t in cache[customer_id] if key in t.mention_keys), None)


def carrier(tickets: dict[str, Ticket], ticket_id: str) -> Ticket | None:
    """The ticket that carries on ``ticket_id`` (following merges)."""
    ticket = tickets.get(ticket_id)
    for _ in range(10):
        if ticket is None or not ticket.merged_into:
            return ticket
        ticket = tickets.get(ticket.merged_into)
    return ticket


def check(svc: Services, sqs: Any, observed: Observed) -> Findings:
    found = Findings()
    settings, config = svc.settings, svc.config
    inbound_dlq = f"{settings.inbound_queue}-dlq"
    outbox_dlq = f"{settings.outbox_queue}-dlq"

    # ---------------------------------------------------------------- the system is quiet
    for queue in (settings.inbound_queue, settings.outbox_queue):
        attributes = sqs.get_queue_attributes(QueueUrl=sqs.get_queue_url(QueueName=queue)["QueueUrl"],
                                              AttributeNames=["All"])["Attributes"]
        waiting = sum(int(attributes.get(name, 0)) for name in (
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed"))
        if waiting:
            found.fail(f"{queue} still holds {waiting} message(s): check a quiet system")

    # ---------------------------------------------------------------- nothing accepted is lost
    inbound_parked = _bodies(peek(sqs, inbound_dlq))
    in_dlq = {key for envelope in inbound_parked for key in _mention_keys(svc, envelope)}
    stored: dict[str, str] = {}  # mention key -> the ticket that holds it (found through its author's customer)
    customers_tickets: dict[str, list[Ticket]] = {}
    vanished = unprocessed = 0
    for key in sorted(observed.accepted):
        mention = svc.mentions.get(key)
        holder = _holder(svc, key, mention.mention.identity_key, customers_tickets) if mention is not None else None
        if holder is not None:
            stored[key] = holder
        elif key in in_dlq:
            continue
        elif mention is None:
            vanished += 1
            found.fail(f"accepted mention {key} was never stored and is not in {inbound_dlq}")
        else:
            unprocessed += 1
            found.fail(f"accepted mention {key} is stored but on no ticket of its customer, and not in {inbound_dlq}")
    accepted_in_dlq = len(observed.accepted & in_dlq - stored.keys())
    if len(observed.accepted) != len(stored) + accepted_in_dlq:
        found.fail(f"{len(observed.accepted)} mentions accepted but {len(stored)} stored and processed + "
                   f"{accepted_in_dlq} in {inbound_dlq}: {vanished} vanished, {unprocessed} half-processed")

    # ---------------------------------------------------------------- one customer, one open case
    tickets = all_tickets(svc, stored.values())
    live = {tid: t for tid, t in tickets.items() if t.status != MERGED}
    holders: dict[str, list[str]] = defaultdict(list)
    for ticket in live.values():
        for key in ticket.mention_keys:
            holders[key].append(ticket.ticket_id)
    for key, ticket_ids in sorted(holders.items()):
        if len(ticket_ids) > 1:
            found.fail(f"mention {key} is on {len(ticket_ids)} tickets that are not merged: {sorted(ticket_ids)}")
    for key, ticket_id in sorted(stored.items()):
        holder = carrier(tickets, ticket_id)
        if holder is None:
            found.fail(f"mention {key} is on ticket {ticket_id}, which carries on as a ticket that does not exist")
        elif key not in holder.mention_keys:
            found.fail(f"mention {key} is on {ticket_id}, but {holder.ticket_id} (which carries it on) does not "
                       f"hold it")
    open_by_customer: dict[str, list[str]] = defaultdict(list)
    for ticket in live.values():
        if ticket.open:
            open_by_customer[ticket.customer_id].append(ticket.ticket_id)
    for customer, ticket_ids in sorted(open_by_customer.items()):
        if len(ticket_ids) > 1:
            found.fail(f"customer {customer} has {len(ticket_ids)} open tickets: {sorted(ticket_ids)}")

    # ---------------------------------------------------------------- every open ticket reached its desk
    announced: dict[str, set[str]] = defaultdict(set)  # desk -> ticket ids with a ticket.created message
    created_messages: Counter[str] = Counter()
    created_at: dict[str, set[str]] = defaultdict(set)
    desk_messages = 0
    for desk in config.desk_ids:
        name = config.queue_name(desk)
        for body in _bodies(peek(sqs, name) + peek(sqs, f"{name}-dlq")):
            desk_messages += 1
            # new to the desk: created there, transferred to it, or a chase or reopening that moved it there
            if body.get("event") == "ticket.created" or body.get("change") == "transferred" or body.get("from_desk"):
                announced[desk].add(str(body.get("ticket_id")))
            if body.get("event") == "ticket.created":
                created_messages[str(body.get("ticket_id"))] += 1
                created_at[str(body.get("ticket_id"))].add(str(body.get("at")))
    for ticket_id, moments in sorted(created_at.items()):
        if len(moments) > 1:  # consumers dedupe on (ticket_id, event, at): a repeat must carry the same `at`
            found.fail(f"ticket {ticket_id} was announced as created with {len(moments)} different times")
    created_anywhere = set().union(*announced.values()) if announced else set()
    for ticket in sorted(live.values(), key=lambda t: t.ticket_id):
        if not ticket.open or ticket.status == CLAIMED:
            continue
        if ticket.ticket_id not in announced[ticket.desk]:
            where = " (announced on another desk)" if ticket.ticket_id in created_anywhere else ""
            found.fail(f"open ticket {ticket.ticket_id} was never announced on {config.queue_name(ticket.desk)}"
                       f"{where}")

    # ---------------------------------------------------------------- never two
    sandbox = svc.sandbox.recent(limit=1_000_000)
    by_key = Counter(str(m.get("idempotency_key", "")) for m in sandbox)
    for key, times in sorted(by_key.items()):
        if times > 1:
            found.fail(f"the sandbox outbox sent {key} {times} times")
    if observed.sends is not None:
        for key, times in sorted(observed.sends.items()):
            if times > 1:
                found.fail(f"{key} reached the platform {times} times")
    ack_keys = {key for key in by_key if key.startswith(ACK_PREFIX)}
    if observed.sends is not None:
        ack_keys |= {key for key in observed.sends if key.startswith(ACK_PREFIX)}
    acks_per_case: dict[str, set[str]] = defaultdict(set)
    for key in ack_keys:
        reference = key[len(ACK_PREFIX):].split("#")[0]
        acks_per_case[reference].add(key)
    for reference, keys in sorted(acks_per_case.items()):
        acked = tickets.get(reference) or svc.tickets.get(reference)
        if acked is None:
            found.fail(f"acknowledgement(s) {sorted(keys)} name no ticket")
            continue
        if len(keys) > 1 + acked.reopened:  # one per open case: a reopened case may get one more
            found.fail(f"ticket {reference} (reopened {acked.reopened} times) was acknowledged {len(keys)} times: "
                       f"{sorted(keys)}")
    acked_customers: dict[str, set[str]] = defaultdict(set)
    for reference, keys in acks_per_case.items():
        if reference in tickets:
            acked_customers[tickets[reference].customer_id].update(keys)

    # ---------------------------------------------------------------- every failure parked is visible
    outbox_parked = _bodies(peek(sqs, outbox_dlq))
    parked_by_app = sum(1 for body in outbox_parked if "error" in body)
    unknown_keys = [str(body.get("idempotency_key", "")) for body in outbox_parked
                    if "without a result" in str(body.get("error", ""))]
    unknown = len(unknown_keys)
    reached = {key for key, times in (observed.sends or {}).items() if times} | set(by_key)
    if observed.metrics is not None:
        metrics = observed.metrics
        outbox_metric = metrics["OutboundFailed"] + metrics["OutboundOutcomeUnknown"]
        if parked_by_app > outbox_metric:
            found.fail(f"{parked_by_app} message(s) parked on {outbox_dlq} but only {outbox_metric} counted "
                       f"(OutboundFailed + OutboundOutcomeUnknown)")
        if unknown > metrics["OutboundOutcomeUnknown"]:
            found.fail(f"{unknown} send(s) of unknown outcome parked but {metrics['OutboundOutcomeUnknown']} counted")
        moved = len(outbox_parked) - parked_by_app
        failures = (metrics[f"RecordsFailed|queue={settings.outbox_queue}"]
                    + observed.handler_errors[settings.outbox_queue])
        if moved and failures < moved:
            found.fail(f"{moved} message(s) moved to {outbox_dlq} by SQS with only {failures} failure(s) counted")
        inbound_failures = (metrics[f"RecordsFailed|queue={settings.inbound_queue}"]
                            + observed.handler_errors[settings.inbound_queue])
        if inbound_parked and inbound_failures < len(inbound_parked):
            found.fail(f"{len(inbound_parked)} message(s) in {inbound_dlq} with only {inbound_failures} failure(s) "
                       f"counted")
    for body in outbox_parked:
        key = str(body.get("idempotency_key", ""))
        parked_ticket = svc.tickets.get(str(body.get("ticket_id", ""))) if key else None
        if parked_ticket is not None and key in parked_ticket.sent_keys \
                and "without a result" not in str(body.get("error", "")):
            found.fail(f"{key} is parked on {outbox_dlq} although its ticket records it as sent")

    # ---------------------------------------------------------------- every decided acknowledgement is accounted for
    check_acknowledgements(svc, live, outbox_parked, found)
    if observed.redrive_at is not None:
        check_redrive(tickets, observed, by_key, found)

    found.ticket_ids = set(tickets)
    found.figures.update({
        "accepted": len(observed.accepted), "stored_and_processed": len(stored), "accepted_in_inbound_dlq":
        accepted_in_dlq, "vanished": vanished, "tickets": len(live), "tickets_merged": len(tickets) - len(live),
        "open_tickets": sum(1 for t in live.values() if t.open), "customers_with_tickets":
        len({t.customer_id for t in live.values()}), "desk_messages": desk_messages,
        "tickets_announced": len(created_anywhere),
        "tickets_announced_again": sum(1 for n in created_messages.values() if n > 1),
        "sandbox_sends": len(sandbox), "acknowledgements": len(ack_keys),
        "customers_acknowledged": len(acked_customers), "inbound_dlq": len(inbound_parked),
        "outbox_dlq": len(outbox_parked), "outbox_dlq_outcome_unknown": unknown,
        "outcome_unknown_had_reached": sum(1 for key in set(unknown_keys) if key in reached),
    })
    return found


#: Why an acknowledgement was parked for a person, from its ticket's note (``deliver``): the send ended without a
#: result, the attempt sending it was cut off, or the platform refused it.
PARKED_REASONS = (("cut off", "the attempt sending it was cut off"),
                  ("without a result", "the send ended without a result"))


def parked_reason(detail: str) -> str:
    for marker, reason in PARKED_REASONS:
        if marker in detail:
            return reason
    return "the platform refused it"


def check_acknowledgements(svc: Services, live: dict[str, Ticket], outbox_parked: list[dict[str, Any]],
                           found: Findings) -> None:
    """Every decided acknowledgement ends sent, expired or parked for a person with the reason: none is left
    waiting or queued on a quiet system, the waiting room is empty, and a message on the outbox dead-letter queue
    is there with the reason of a send that failed (refused, or no result), never because it waited for the rate."""
    from chalicelib.domain.history import WaitingForRate
    from chalicelib.domain.mention import CHANNELS

    states: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    waited = 0
    for ticket in sorted(live.values(), key=lambda t: t.ticket_id):
        state = ticket.ack_state()
        if state is None:
            continue
        states[state[0]] += 1
        waited += any(isinstance(e, WaitingForRate) and e.of_ack for e in ticket.timeline)
        if state[0] in ("waiting", "queued"):
            case = max((n for n, e in enumerate(ticket.timeline) if e.kind == "ack_queued"), default=0)
            story = ", ".join(f"{e.kind} {e.at:%m-%d %H:%M:%S}" for e in ticket.timeline[case:][:12])
            found.fail(f"ticket {ticket.ticket_id}: its acknowledgement is still {state[0]} on a quiet system"
                       + (f" (slot {state[1]})" if state[1] else "") + f": {story}")
        elif state[0] == "parked":
            if not state[1].partition(":")[2].strip():
                found.fail(f"ticket {ticket.ticket_id}: its acknowledgement is parked without a reason")
            reasons[parked_reason(state[1])] += 1
    for channel in CHANNELS:
        left = svc.waiting.count(channel)
        if left:
            found.fail(f"{left} message(s) still in the waiting room of {channel} on a quiet system")
    from chalicelib.domain.history import ReplyFailed, ReplyUnconfirmed

    for body in outbox_parked:
        key, error = str(body.get("idempotency_key", "")), str(body.get("error", ""))
        if not error:
            found.fail(f"{key or body} is on the outbox dead-letter queue without a reason (moved by SQS)")
            continue
        ticket = svc.tickets.get(str(body.get("ticket_id", "")))
        kind = str(body.get("kind", ""))
        if ticket is not None and not any(isinstance(e, (ReplyFailed, ReplyUnconfirmed)) and e.message == kind
                                          for e in ticket.timeline):
            found.fail(f"{key} is parked ({error[:80]}) but its ticket notes no failed send of its {kind}: it "
                       f"only waited?")
    found.figures.update({
        "acks_decided": sum(states.values()), "acks_sent": states["sent"], "acks_expired": states["expired"],
        "acks_parked": states["parked"], "acks_left_waiting": states["waiting"] + states["queued"],
        "acks_that_waited": waited,
    })
    found.figures.update({f"acks_parked: {reason}": n for reason, n in sorted(reasons.items())})


def check_redrive(tickets: dict[str, Ticket], observed: Observed, sandbox_after: Counter[str],
                  found: Findings) -> None:
    """A redrive of the dead-letter queues sends no key twice: what reached a platform (and what the sandbox sent)
    per key after it, against before it; and no acknowledgement its ticket recorded as sent, or as a send without a
    result, before the redrive goes out during it."""
    pairs = [("reached a platform", observed.sends_before_redrive, observed.sends),
             ("was sent by the sandbox outbox", observed.sandbox_before_redrive, sandbox_after)]
    redriven_sends = 0
    for what, before, after in pairs:
        if before is None or after is None:
            continue
        for key, times in sorted(after.items()):
            earlier = before.get(key, 0)
            if times > earlier:
                redriven_sends += times - earlier if what == "reached a platform" else 0
                if earlier:
                    found.fail(f"{key} {what} {earlier} time(s) before the redrive and again after it")
                reference = key[len(ACK_PREFIX):].split("#")[0] if key.startswith(ACK_PREFIX) else ""
                ticket = tickets.get(reference)
                if ticket is None or observed.redrive_at is None:
                    continue
                before_redrive = [e for e in ticket.timeline if e.at < observed.redrive_at]
                case = max((n for n, e in enumerate(before_redrive) if e.kind == "ack_queued"), default=-1)
                settled = [e for e in before_redrive[case + 1:]  # this case's acknowledgement, as its ticket says
                           if e.kind in ("acknowledged", "closing", "busy", "reply_unconfirmed")]
                if settled and key in ticket.sent_keys and not earlier:
                    found.fail(f"{key} {what} after the redrive although its ticket recorded it "
                               f"({settled[-1].kind}) before")
    found.figures["sent_after_the_redrive"] = redriven_sends


def status_tokens(svc: Services, ticket_ids: Iterable[str]) -> set[str]:
    """The status-page tokens of these tickets (the ``/s/<token>`` part of their links)."""
    return {svc.links.url(ticket_id).rsplit("/s/", 1)[1] for ticket_id in ticket_ids}


def check_logs(text: str, *, secrets: dict[str, str], tokens: Iterable[str] | None,
               where: str = "the logs") -> list[str]:
    """Secrets and status tokens never appear in what the app logs (``tokens`` None: secrets only)."""
    violations = []
    for name, value in sorted(secrets.items()):
        for part in {value, *value.split(",")}:
            if len(part) >= 8 and part in text:
                violations.append(f"{where} contain the value of {name}")
                break
    if tokens is None:
        return violations
    leaked = sorted(token for token in tokens if token in text)
    leaked += sorted(set(TOKEN.findall(text)) - set(leaked))
    if leaked:
        violations.append(f"{where} contain {len(leaked)} status-link token(s), e.g. {leaked[0]}")
    paths = sorted(set(STATUS_PATH.findall(text)))
    if paths and not leaked:
        violations.append(f"{where} contain {len(paths)} status-page path(s), e.g. {paths[0]}")
    return violations
