"""Queues and schedules: the SQS handlers and the scheduled functions, one Lambda function each.

The blueprint is named ``app`` so every function's handler stays ``app.<name>``: Lambda imports ``app.py``, which
registers the telemetry middleware and this blueprint and re-exports these handlers."""
from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, CloudWatchEvent, Rate, SQSEvent

from chalicelib.bootstrap import services
from chalicelib.sqs_batch import Record, records_from_event, run_batch

bp = Blueprint("app")

INBOUND_QUEUE = "responder-inbound"
OUTBOX_QUEUE = "responder-outbox"
NOTIFY_QUEUE = "responder-notify"
#: one consumer per desk of the brand file (tests/unit/test_team_feed_wiring.py keeps them in step), each switched on
#: and off by ``follow_rota``
DESK_CONSUMERS = {"complaints": "consume_desk_complaints", "journeys": "consume_desk_journeys",
                  "press": "consume_desk_press", "oncall": "consume_desk_oncall",
                  "escalations": "consume_desk_escalations"}


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


def _consume_desk(desk: str, event: SQSEvent) -> dict[str, Any]:
    from chalicelib.usecases.team_feed import NotADeskMessage, consume_desk_message

    svc = services()
    queue = svc.config.queue_name(desk)

    def handle(record: Record) -> None:
        body = record.json()
        try:
            if not isinstance(body, dict):
                raise NotADeskMessage("not a JSON object")
            consume_desk_message(svc, desk, body, message_id=record.message_id)
        except NotADeskMessage as exc:  # it would fail the same way every time: parked at once, with the reason
            svc.queues.send_dead_letter(queue, {"reason": str(exc), "body": record.body[:200_000]})

    return run_batch(records_from_event(event.to_dict()), handle, queue_name=queue, queues=svc.queues)


@bp.on_sqs_message(queue="responder-desk-complaints", batch_size=10, name="consume_desk_complaints")
def consume_desk_complaints(event: SQSEvent) -> dict[str, Any]:
    return _consume_desk("complaints", event)


@bp.on_sqs_message(queue="responder-desk-journeys", batch_size=10, name="consume_desk_journeys")
def consume_desk_journeys(event: SQSEvent) -> dict[str, Any]:
    return _consume_desk("journeys", event)


@bp.on_sqs_message(queue="responder-desk-press", batch_size=10, name="consume_desk_press")
def consume_desk_press(event: SQSEvent) -> dict[str, Any]:
    return _consume_desk("press", event)


@bp.on_sqs_message(queue="responder-desk-oncall", batch_size=10, name="consume_desk_oncall")
def consume_desk_oncall(event: SQSEvent) -> dict[str, Any]:
    return _consume_desk("oncall", event)


@bp.on_sqs_message(queue="responder-desk-escalations", batch_size=10, name="consume_desk_escalations")
def consume_desk_escalations(event: SQSEvent) -> dict[str, Any]:
    return _consume_desk("escalations", event)


@bp.on_sqs_message(queue=NOTIFY_QUEUE, batch_size=10)
def deliver_notice(event: SQSEvent) -> dict[str, Any]:
    from chalicelib.usecases.team_feed import deliver_notice as deliver

    svc = services()
    return run_batch(records_from_event(event.to_dict()),
                     lambda record: deliver(svc, record.json(), receive_count=record.receive_count,
                                            queue_name=NOTIFY_QUEUE),
                     queue_name=NOTIFY_QUEUE, queues=svc.queues)


# ------------------------------------------------------------------------------------------------ schedules
@bp.schedule(Rate(1, unit=Rate.MINUTES), name="follow_rota")
def follow_rota(event: CloudWatchEvent) -> Any:
    from chalicelib.usecases.team_feed import follow_rota as run

    return run(services()).summary()


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


@bp.schedule(Rate(2, unit=Rate.MINUTES), name="poll_threads")
def poll_threads(event: CloudWatchEvent) -> Any:
    from chalicelib.usecases.poll_threads import poll_mentions

    return poll_mentions(services())


@bp.schedule(Rate(5, unit=Rate.MINUTES), name="poll_listening")
def poll_listening(event: CloudWatchEvent) -> Any:
    from chalicelib.usecases.listening import poll_listening as run

    return run(services())


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
