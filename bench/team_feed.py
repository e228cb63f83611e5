"""What the team feed adds per ticket (docs/adr/0024-desk-queues-consumed-by-the-rota.md), on moto through the real
handlers: complaints written at night wait in their desk queue; at 07:00 ``follow_rota`` switches the desk on and
queues its digest; ``consume_desk_complaints`` fans each desk message out; ``deliver_notice`` posts each delivery.
Then a complaint on shift goes the same way. The destinations' HTTPS posts are not AWS calls; the local stand-in's
record of them is the platform's side and is not counted.

    python -m bench.team_feed            # prints the figures as JSON
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

NIGHT = datetime(2027, 2, 9, 3, 0, tzinfo=timezone.utc)  # a Tuesday: customer service off until 07:00
MORNING = datetime(2027, 2, 9, 7, 0, tzinfo=timezone.utc)
NIGHT_TICKETS = 30


def run(night_tickets: int = NIGHT_TICKETS) -> dict[str, Any]:
    from bench.meter import Meter
    from bench.scenarios import Harness, tweet
    from tests.reliability.scenario import local_aws

    meter = Meter()
    with local_aws() as (svc, client, clock), meter.installed():
        h = Harness(svc, client, clock, meter)
        record = svc.stores.notify_log.record

        def record_as_the_platform(*args: Any, **kwargs: Any) -> None:
            with h.outside():
                record(*args, **kwargs)

        svc.stores.notify_log.record = record_as_the_platform  # type: ignore[method-assign]
        from chalicelib.usecases.team_feed import follow_rota

        with h.outside():
            clock.set(NIGHT)
            for n in range(night_tickets):
                h.post("/webhooks/x", *tweet(f"96{n:05d}", "@MeridianRail my train was cancelled and no one "
                                             "helped, I want a refund", f"74{n:05d}", clock.now()))
            h.drain("process_inbound", svc.settings.inbound_queue)
            follow_rota(svc)  # the first run switches on the on-call desk (around the clock)
        meter.usage()
        follow_rota(svc)
        night = meter.usage()  # one run of the rota at night: nothing changes
        clock.set(MORNING)
        follow_rota(svc)
        switch_on = meter.usage()  # the shift starts: digests queued, consumers on
        consumed, _ = h.drain("consume_desk_complaints", svc.config.queue_name("complaints"))
        consume = meter.usage()
        delivered, _ = h.drain("deliver_notice", svc.settings.notify_queue)
        deliver = meter.usage()
        with h.outside():
            clock.set(datetime(2027, 2, 9, 10, 0, tzinfo=timezone.utc))
            h.post("/webhooks/x", *tweet("9700001", "@MeridianRail my refund never came, awful service",
                                         "7500001", clock.now()))
            h.drain("process_inbound", svc.settings.inbound_queue)
        meter.usage()
        h.drain("consume_desk_complaints", svc.config.queue_name("complaints"))
        on_shift_consume = meter.usage()
        on_shift_delivered, _ = h.drain("deliver_notice", svc.settings.notify_queue)
        on_shift_deliver = meter.usage()
        posted = svc.stores.notify_log.recent(limit=500)
    return {
        "night_tickets": night_tickets,
        "rota_run_at_night": {"aws_calls": night.total_calls(),
                              "calls_by_operation": dict(sorted(night.calls.items()))},
        "shift_start": {"aws_calls": switch_on.total_calls(), "dynamodb_rru": round(switch_on.rru, 2),
                        "calls_by_operation": dict(sorted(switch_on.calls.items()))},
        "desk_messages_consumed": consumed,
        "consume_aws_calls_per_desk_message": round(consume.total_calls() / max(1, consumed), 2),
        "consume_calls_by_operation": dict(sorted(consume.calls.items())),
        "deliveries": delivered,
        "deliver_aws_calls_per_delivery": round(deliver.total_calls() / max(1, delivered), 2),
        "deliver_calls_by_operation": dict(sorted(deliver.calls.items())),
        "on_shift_ticket": {
            "consume_aws_calls": on_shift_consume.total_calls(),
            "deliveries": on_shift_delivered,
            "deliver_aws_calls": on_shift_deliver.total_calls(),
            "deliver_dynamodb_wru": round(on_shift_deliver.wru, 2),
        },
        "posted": sorted({f"{p['destination']}:{p['event']}" for p in posted}),
        "errors": h.errors[:5],
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2, default=str))
