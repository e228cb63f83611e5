"""Chalice app: routes, schedules and queue handlers. Wiring only: parse the request, call one use case, map
its errors to HTTP. Behaviour lives in chalicelib/usecases (by the same names)."""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from chalice import Chalice, Rate, Response

from chalicelib.bootstrap import services
from chalicelib.sqs_batch import records_from_event, run_batch
from chalicelib.telemetry import logger, metrics, uncorrelate
from chalicelib.usecases import errors

app = Chalice(app_name="responder")

INBOUND_QUEUE = "responder-inbound"
OUTBOX_QUEUE = "responder-outbox"

#: The one place use-case refusals become HTTP statuses.
ERROR_STATUS: dict[type[errors.Refused], int] = {
    errors.Malformed: 400,
    errors.NotAuthenticated: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.TooLarge: 413,
    errors.Unsupported: 415,
    errors.Invalid: 422,
    errors.TooManyRequests: 429,
}


def _refusal_status(exc: errors.Refused) -> int:
    return next((ERROR_STATUS[kind] for kind in type(exc).__mro__ if kind in ERROR_STATUS), 400)


def _json_error(status: int, message: str, details: Any = None) -> Response:
    body: dict[str, Any] = {"error": message}
    if details:
        body["details"] = details
    return Response(body=body, status_code=status, headers={"Content-Type": "application/json"})


def _answer(call: Callable[[], Any], status: int = 200, headers: dict[str, str] | None = None) -> Any:
    """Run one use case; its refusal becomes a JSON error with the status ``ERROR_STATUS`` gives it."""
    try:
        result = call()
    except errors.Refused as exc:
        return _json_error(_refusal_status(exc), exc.message, exc.details)
    if status == 200 and headers is None:
        return result
    return Response(body=result, status_code=status, headers=headers or {})


@app.middleware("all")
def telemetry(event, get_response):
    logger.append_keys(stage=services().settings.stage)
    uncorrelate()  # a ticket reference is one request's or one record's, never the next invocation's
    try:
        return get_response(event)
    finally:
        uncorrelate()
        metrics.flush_metrics(raise_on_empty_metrics=False)


# ------------------------------------------------------------------------------------------------ health
@app.route("/health", methods=["GET"])
def health():
    from chalicelib.usecases.health import health as check

    report = check(services())
    return Response(body=report, status_code=200 if report["ok"] else 503)


# ------------------------------------------------------------------------------------------------ webhooks
@app.route("/webhooks/x", methods=["GET"])
def x_crc():
    from chalicelib.usecases.webhooks import x_crc as crc

    params = app.current_request.query_params or {}
    return _answer(lambda: crc(services(), params.get("crc_token")))


@app.route("/webhooks/x", methods=["POST"], content_types=["application/json"])
def x_webhook():
    from chalicelib.channels.x import SIGNATURE_HEADER
    from chalicelib.usecases.webhooks import receive_x

    request = app.current_request
    return _answer(lambda: receive_x(services(), request.raw_body, request.headers.get(SIGNATURE_HEADER)))


@app.route("/webhooks/meta", methods=["GET"])
def meta_subscribe():
    from chalicelib.usecases.webhooks import meta_subscribe as subscribe

    params = app.current_request.query_params or {}
    return _answer(lambda: subscribe(services(), params), headers={"Content-Type": "text/plain"})


@app.route("/webhooks/meta", methods=["POST"], content_types=["application/json"])
def meta_webhook():
    from chalicelib.usecases.webhooks import receive_meta

    request = app.current_request
    return _answer(lambda: receive_meta(services(), request.raw_body, request.headers.get("x-hub-signature-256")))


@app.route("/webhooks/email", methods=["POST"], content_types=["text/plain", "application/json"])
def email_webhook():
    from chalicelib.usecases.webhooks import receive_email

    return _answer(lambda: receive_email(services(), app.current_request.raw_body))


@app.route("/contact", methods=["POST"], content_types=["application/json"])
def contact():
    from chalicelib.usecases.webhooks import receive_form

    request = app.current_request
    source = (request.context.get("identity") or {}).get("sourceIp", "unknown")
    client_key = hashlib.sha256(source.encode()).hexdigest()[:16]
    return _answer(lambda: receive_form(services(), request.raw_body, client_key=client_key), status=202)


# ------------------------------------------------------------------------------------------------ local sandbox
@app.route("/local/outbox", methods=["GET"])
def local_outbox():
    svc = services()
    if not svc.settings.sandbox_outbound:
        return _json_error(404, "the outbound sandbox exists only in stage local")
    limit = (app.current_request.query_params or {}).get("limit", "200")
    if not limit.isdigit() or not 1 <= int(limit) <= 20_000:
        return _json_error(400, "limit must be a whole number from 1 to 20000")
    return {"messages": svc.sandbox.recent(limit=int(limit))}


@app.route("/local/clock", methods=["POST"], content_types=["application/json"])
def local_clock():
    from chalicelib.usecases.local import advance_clock

    return _answer(lambda: advance_clock(services(), _json_object()))


@app.route("/local/schedules/{name}", methods=["POST"])
def local_schedule(name):
    from chalicelib.usecases.local import run_schedule

    return _answer(lambda: run_schedule(services(), name))


@app.route("/local/bluesky/mentions", methods=["POST"], content_types=["application/json"])
def local_bluesky_mention():
    from chalicelib.usecases.local_mentions import inject

    return _answer(lambda: inject(services(), "bluesky", app.current_request.raw_body), status=202)


@app.route("/local/mastodon/mentions", methods=["POST"], content_types=["application/json"])
def local_mastodon_mention():
    from chalicelib.usecases.local_mentions import inject

    return _answer(lambda: inject(services(), "mastodon", app.current_request.raw_body), status=202)


@app.route("/local/email/mentions", methods=["POST"], content_types=["application/json"])
def local_email_mention():
    from chalicelib.usecases.local_mentions import inject

    return _answer(lambda: inject(services(), "email", app.current_request.raw_body), status=202)


# ------------------------------------------------------------------------------------------------ queues
@app.on_sqs_message(queue=INBOUND_QUEUE, batch_size=10)
def process_inbound(event):
    from chalicelib.usecases.deliver import SendDeadline
    from chalicelib.usecases.process import process_envelope

    svc, deadline = services(), SendDeadline.of(event.context)
    return run_batch(records_from_event(event.to_dict()),
                     lambda record: process_envelope(svc, record.json(), raw_ref=f"inbound#{record.message_id}",
                                                     attempt=record.receive_count, deadline=deadline),
                     queue_name=INBOUND_QUEUE, queues=svc.queues)


@app.on_sqs_message(queue=OUTBOX_QUEUE, batch_size=10)
def deliver_outbox(event):
    from chalicelib.usecases.deliver import deliver_record

    svc = services()
    return run_batch(records_from_event(event.to_dict()), lambda record: deliver_record(svc, record),
                     queue_name=OUTBOX_QUEUE, queues=svc.queues)


# ------------------------------------------------------------------------------------------------ schedules
@app.schedule(Rate(2, unit=Rate.MINUTES), name="poll_x")
def poll_x(event):
    from chalicelib.usecases.poll_x import poll_mentions

    return poll_mentions(services())


@app.schedule(Rate(2, unit=Rate.MINUTES), name="poll_bluesky")
def poll_bluesky(event):
    from chalicelib.usecases.poll_bluesky import poll_notifications

    return poll_notifications(services())


@app.schedule(Rate(2, unit=Rate.MINUTES), name="poll_mastodon")
def poll_mastodon(event):
    from chalicelib.usecases.poll_mastodon import poll_mentions

    return poll_mentions(services())


# ------------------------------------------------------------------------------------------------ status page
@app.route("/s/{token}", methods=["GET"])
def status_page(token):
    from chalicelib.usecases.status import status_view
    from chalicelib.web import status_page as page

    token, as_json = page.wants_json(token or "", app.current_request.headers.get("accept", ""))
    try:
        status, body, headers = page.respond(status_view(services(), token), as_json)
    except errors.NotFound:
        status, body, headers = page.not_found()
    return Response(body=body, status_code=status, headers=headers)


@app.route("/status", methods=["GET"])
def status_lookup_form():
    from chalicelib.web import status_lookup as page

    status, body, headers = page.page(services().config.brand.name)
    return Response(body=body, status_code=status, headers=headers)


@app.route("/status", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def status_lookup():
    from chalicelib.usecases.status import lookup
    from chalicelib.web import status_lookup as page

    svc, request = services(), app.current_request
    brand = svc.config.brand.name
    if not page.same_site(request.headers, svc.settings.public_base_url):
        status, body, headers = page.cross_site(brand)
        return Response(body=body, status_code=status, headers=headers)
    source = (request.context.get("identity") or {}).get("sourceIp", "unknown")
    client_key = hashlib.sha256(source.encode()).hexdigest()[:16]
    reference, who = page.read_form(request.raw_body)
    try:
        status, body, headers = page.see_other(lookup(svc, reference, who, client_key=client_key))
    except errors.TooManyRequests:
        status, body, headers = page.too_many(brand)
    except errors.NotFound:
        status, body, headers = page.not_found(brand)
    return Response(body=body, status_code=status, headers=headers)


# ------------------------------------------------------------------------------------------------ oversight
def _admin(call: Callable[[Any], Any], status: int = 200) -> Any:
    """Admin endpoints: the bearer token first, then the use case."""
    from chalicelib.usecases.admin import authorize

    svc = services()

    def run() -> Any:
        authorize(svc, app.current_request.headers.get("authorization"))
        return call(svc)

    return _answer(run, status=status)


def _json_object() -> Any:
    from chalicelib import json_input

    if not app.current_request.raw_body:
        return {}
    try:
        body = json_input.load(app.current_request.raw_body)
    except json_input.BadJson as exc:
        raise errors.Malformed(str(exc)) from None
    if not isinstance(body, dict):
        raise errors.Malformed("the body must be a JSON object")
    return body


@app.route("/admin/rota", methods=["GET"])
def admin_rota():
    from chalicelib.usecases.admin import rota

    return _admin(rota)


@app.route("/admin/backlog/{desk}", methods=["GET"])
def admin_backlog(desk):
    from chalicelib.usecases.admin import backlog

    return _admin(lambda svc: backlog(svc, desk))


@app.route("/admin/acknowledgements", methods=["GET"])
def admin_acknowledgements():
    from chalicelib.usecases.admin import acknowledgements

    return _admin(acknowledgements)


@app.route("/admin/incidents", methods=["GET"])
def list_incidents():
    from chalicelib.usecases.incidents import list_incidents as incidents

    return _admin(lambda svc: {"incidents": [i.to_dict() for i in incidents(svc)]})


@app.route("/admin/incidents", methods=["POST"], content_types=["application/json"])
def declare_incident():
    from chalicelib.usecases.incidents import declare

    return _admin(lambda svc: declare(svc, _json_object()).to_dict(), status=201)


def _change_incident(incident_id: str, *, resolve: bool) -> Any:
    from chalicelib.usecases.admin import change_incident

    return _admin(lambda svc: change_incident(svc, incident_id, _json_object(), resolve=resolve))


@app.route("/admin/incidents/{incident_id}", methods=["POST"], content_types=["application/json"])
def update_incident(incident_id):
    return _change_incident(incident_id, resolve=False)


@app.route("/admin/incidents/{incident_id}/resolve", methods=["POST"], content_types=["application/json"])
def resolve_incident(incident_id):
    return _change_incident(incident_id, resolve=True)


# ------------------------------------------------------------------------------------------------ more schedules
@app.schedule(Rate(5, unit=Rate.MINUTES), name="closing_time")
def closing_time(event):
    from chalicelib.usecases.closing_time import closing_time as run

    return run(services())


@app.schedule(Rate(1, unit=Rate.MINUTES), name="dispatch_outbox")
def dispatch_outbox(event):
    from chalicelib.usecases.waiting import dispatch

    return dispatch(services())


@app.schedule(Rate(5, unit=Rate.MINUTES), name="sla_watch")
def sla_watch(event):
    from chalicelib.usecases.sla_watch import sla_watch as run

    return run(services())


@app.route("/admin/customers/{identity}", methods=["DELETE"])
def forget_customer(identity):
    from urllib.parse import unquote

    from chalicelib.usecases.privacy import forget_customer as forget

    return _admin(lambda svc: forget(svc, unquote(identity)))


# ------------------------------------------------------------------------------------------------ customers
@app.route("/admin/customer-links", methods=["POST"], content_types=["application/json"])
def link_customers():
    from chalicelib.usecases.customers import link

    return _admin(lambda svc: link(svc, _json_object()))


@app.route("/admin/customer-links/{identity}", methods=["DELETE"])
def unlink_customer(identity):
    from urllib.parse import unquote

    from chalicelib.usecases.customers import unlink

    return _admin(lambda svc: unlink(svc, unquote(identity)))


@app.route("/admin/tickets/{ticket_id}", methods=["GET"])
def show_ticket(ticket_id):
    from chalicelib.usecases.admin import ticket_view

    return _admin(lambda svc: ticket_view(svc, ticket_id))


# ------------------------------------------------------------------------------------------------ agents' inbox (JSON)
def _agent_call(call: Callable[[Any, Any], Any], status: int = 200) -> Any:
    """Agent endpoints: the sign-in token (``Authorization: Bearer``) names the agent, then the use case."""
    from chalicelib.usecases import inbox

    svc = services()

    def run() -> Any:
        agent = inbox.authenticate(svc, inbox.bearer(app.current_request.headers.get("authorization")))
        return call(svc, agent)

    return _answer(run, status=status)


@app.route("/agent/sign-in", methods=["POST"], content_types=["application/json"])
def agent_sign_in():
    from chalicelib.usecases.inbox import sign_in

    return _answer(lambda: sign_in(services(), _json_object()))


@app.route("/agent/me", methods=["GET"])
def agent_me():
    from chalicelib.usecases.inbox import desks

    return _agent_call(desks)


@app.route("/agent/next", methods=["POST"], content_types=["application/json"])
def agent_next():
    from chalicelib.usecases.inbox import next_ticket

    def run(svc: Any, agent: Any) -> Any:
        desk = _json_object().get("desk")
        if desk is not None and not isinstance(desk, str):
            raise errors.Invalid("desk must be a desk id", details={"desk": "not a string"})
        return next_ticket(svc, agent, desk or None)

    return _agent_call(run)


@app.route("/agent/tickets/{ticket_id}", methods=["GET"])
def agent_show(ticket_id):
    from chalicelib.usecases.inbox import show

    return _agent_call(lambda svc, agent: show(svc, agent, ticket_id))


@app.route("/agent/tickets/{ticket_id}/{action}", methods=["POST"], content_types=["application/json"])
def agent_act(ticket_id, action):
    from chalicelib.usecases import inbox

    if action not in inbox.TICKET_ACTIONS:  # before the sign-in check, as an unknown path would be
        return _json_error(404, f"no action {action}: use one of {', '.join(inbox.TICKET_ACTIONS)}")
    return _agent_call(lambda svc, agent: inbox.act(svc, agent, ticket_id, action, _json_object))


@app.route("/agent/customer-links", methods=["POST"], content_types=["application/json"])
def agent_link():
    from chalicelib.usecases.inbox import link

    return _agent_call(lambda svc, agent: link(svc, agent, _json_object()))


@app.route("/agent/oversight", methods=["GET"])
def agent_oversight():
    from chalicelib.usecases.inbox import oversight

    return _agent_call(oversight)


@app.route("/agent/labels", methods=["GET"])
def agent_labels():
    from chalicelib.usecases.inbox import labels

    since = (app.current_request.query_params or {}).get("since")
    return _agent_call(lambda svc, agent: labels(svc, agent, since))


# ------------------------------------------------------------------------------------------------ agents' inbox (web)
FORM = ["application/x-www-form-urlencoded"]


def _web(answer: Callable[[Any], tuple[int, str, dict[str, Any]]]) -> Response:
    """Web inbox pages: ``chalicelib.web.inbox_page`` reads the request (session cookie, form, CSRF token) and renders
    what the use case answers; a refusal keeps the status ``ERROR_STATUS`` gives it."""
    from chalicelib.web.inbox_page import Web

    status, body, headers = answer(Web(services(), app.current_request, _refusal_status))
    return Response(body=body, status_code=status, headers=headers)


@app.route("/inbox", methods=["GET"])
def inbox_home():
    from chalicelib.usecases.inbox import desks

    return _web(lambda web: web.home(desks))


@app.route("/inbox/sign-in", methods=["GET"])
def inbox_sign_in_form():
    return _web(lambda web: web.sign_in_form())


@app.route("/inbox/sign-in", methods=["POST"], content_types=FORM)
def inbox_sign_in():
    from chalicelib.usecases.inbox import sign_in

    return _web(lambda web: web.sign_in(sign_in))


@app.route("/inbox/sign-out", methods=["POST"], content_types=FORM)
def inbox_sign_out():
    return _web(lambda web: web.sign_out())


@app.route("/inbox/next", methods=["POST"], content_types=FORM)
def inbox_next():
    from chalicelib.usecases.inbox import next_ticket

    return _web(lambda web: web.take_next(next_ticket))


@app.route("/inbox/oversight", methods=["GET"])
def inbox_oversight():
    from chalicelib.usecases.inbox import oversight

    return _web(lambda web: web.oversight(oversight))


@app.route("/inbox/labels.csv", methods=["GET"])
def inbox_labels():
    from chalicelib.usecases.inbox import labels

    return _web(lambda web: web.labels_csv(labels))


@app.route("/inbox/tickets/{ticket_id}", methods=["GET"])
def inbox_ticket(ticket_id):
    from chalicelib.usecases.inbox import show

    return _web(lambda web: web.ticket(ticket_id, show))


@app.route("/inbox/tickets/{ticket_id}/{action}", methods=["POST"], content_types=FORM)
def inbox_act(ticket_id, action):
    from chalicelib.usecases import inbox

    def call(svc: Any, agent: Any, form: dict[str, Any]) -> Any:
        if action == "link":
            return inbox.link(svc, agent, form)
        return inbox.act(svc, agent, ticket_id, action, lambda: form)

    known = action in inbox.TICKET_ACTIONS or action == "link"
    return _web(lambda web: web.act(ticket_id, action, call if known else None))


@app.route("/inbox/assets/{name}", methods=["GET"])
def inbox_asset(name):
    from chalicelib.web.inbox_page import asset_page

    status, body, headers = asset_page(name)
    return Response(body=body, status_code=status, headers=headers)
