"""Queues and schedules: the SQS handlers and the scheduled functions, one Lambda function each.

The blueprint is named ``app`` so every function's handler stays ``app.<name>``: Lambda imports ``app.py``, which
registers the telemetry middleware and this blueprint and re-exports these handlers."""
from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, CloudWatchEvent, Rate, SQSEvent

from chalicelib.bootstrap import services
from chalicelib.sqs_batch import records_from_event, run_batch

bp = Blueprint("app")

INBOUND_QUEUE = "responder-inbound"
OUTBOX_QUEUE = "responder-outbox"


# ------------------------------------------------------------------------------------------------ queues
@bp.on_sqs_message(queue=INBOUND_QUEUE, batch_size=10)
def process_inbound(event: SQSEvent) -> dict[str, Any]:
    from chalicelib.usecases.deliver import SendDeadline
    from chalicelib.usecases.process import process_envelope

    svc, deadline = services(), SendDeadline.of(event.context)
    return run_batch(records_from_event(event.to_dict()),
                     lambda record: process_envelope(svc, record.json(), raw_ref=f"inbound#{record.message_id}",
                                                     attempt=record.receive_count, deadline=deadline),
                     queue_name=INBOUND_QUEUE, queues=svc.queues)


@bp.on_sqs_message(queue=OUTBOX_QUEUE, batch_size=10)
def deliver_outbox(event: SQSEvent) -> dict[str, Any]:
    from chalicelib.usecases.deliver import deliver_record

    svc = services()
    return run_batch(records_from_event(event.to_dict()), lambda record: deliver_record(svc, record),
                     queue_name=OUTBOX_QUEUE, queues=svc.queues)


# ------------------------------------------------------------------------------------------------ schedules
@bp.schedule(Rate(2, unit=Rate.MINUTES), name="poll_x")
def poll_x(event: CloudWatchEvent) -> Any:
    from chalicelib.usecases.poll_x import poll_mentions

    return poll_mentions(services())


@bp.schedule(Rate(2, unit=Rate.MINUTES), name="poll_bluesky")
def poll_bluesky(event: CloudWatchEvent) -> Any:
    from chalicelib.usecases.poll_bluesky import poll_notifications

    return poll_notifications(services())


@bp.schedule(Rate(2, unit=Rate.MINUTES), name="poll_mastodon")
def poll_mastodon(event: CloudWatchEvent) -> Any:
    from chalicelib.usecases.poll_mastodon import poll_mentions

    return poll_mentions(services())


@bp.schedule(Rate(5, unit=Rate.MINUTES), name="closing_time")
def closing_time(event: CloudWatchEvent) -> Any:
    from chalicelib.usecases.closing_time import closing_time as run

    return run(services())


@bp.schedule(Rate(1, unit=Rate.MINUTES), name="dispatch_outbox")
def dispatch_outbox(event: CloudWatchEvent) -> Any:
    from chalicelib.usecases.waiting import dispatch

    return dispatch(services())


@bp.schedule(Rate(5, unit=Rate.MINUTES), name="sla_watch")
def sla_watch(event: CloudWatchEvent) -> Any:
    from chalicelib.usecases.sla_watch import sla_watch as run

    return run(services())
