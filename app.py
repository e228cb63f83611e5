"""Chalice app: wiring only. The routes, queue handlers and schedules live in chalicelib/api, one blueprint per area;
each parses the request, calls one use case (chalicelib/usecases, by the same names) and maps its refusal to HTTP
with ``chalicelib.api.http.ERROR_STATUS``."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice.app import Chalice

from chalicelib.api import admin, agents, events, inbox, local, status, webhooks
from chalicelib.api.events import (  # Lambda's handlers for the queues and schedules: app.<name>
    closing_time,
    consume_desk_complaints,
    consume_desk_escalations,
    consume_desk_journeys,
    consume_desk_oncall,
    consume_desk_press,
    deliver_notice,
    deliver_outbox,
    dispatch_outbox,
    follow_rota,
    poll_bluesky,
    poll_listening,
    poll_mastodon,
    poll_threads,
    poll_x,
    process_inbound,
    sla_watch,
)
from chalicelib.api.http import empty_path_parameters
from chalicelib.bootstrap import services
from chalicelib.telemetry import logger, metrics, uncorrelate

__all__ = ["app", "closing_time", "consume_desk_complaints", "consume_desk_escalations", "consume_desk_journeys",
           "consume_desk_oncall", "consume_desk_press", "deliver_notice", "deliver_outbox", "dispatch_outbox",
           "follow_rota", "poll_bluesky", "poll_listening", "poll_mastodon", "poll_threads", "poll_x",
           "process_inbound", "sla_watch"]

app = Chalice(app_name="responder")


@app.middleware("all")
def telemetry(event: Any, get_response: Callable[[Any], Any]) -> Any:
    logger.append_keys(stage=services().settings.stage)
    uncorrelate()  # a ticket reference is one request's or one record's, never the next invocation's
    try:
        return get_response(event)
    finally:
        uncorrelate()
        metrics.flush_metrics(raise_on_empty_metrics=False)


app.register_middleware(empty_path_parameters, "http")

# No name prefix: every Lambda function keeps its name (infra/template.yaml, tools/deploy.py and tools/local_stack.py
# refer to them), and the queue and schedule handlers stay app.<name>.
for blueprint in (status.bp, webhooks.bp, local.bp, events.bp, admin.bp, agents.bp, inbox.bp):
    app.register_blueprint(blueprint)
