"""Chalice app: routes, schedules and queue handlers. Wiring only: parse the request, call one use case, map
its errors to HTTP. Behaviour lives in chalicelib/usecases (by the same names)."""
from __future__ import annotations

import hashlib

from chalice import Chalice, Rate, Response

from chalicelib.bootstrap import services
from chalicelib.sqs_batch import records_from_event, run_batch
from chalicelib.telemetry import logger, metrics

app = Chalice(app_name="responder")

INBOUND_QUEUE = "responder-inbound"
OUTBOX_QUEUE = "responder-outbox"


def _json_error(status: int, message: str, details=None) -> Response:
    body = {"error": message}
    if details:
        body["details"] = details
    return Response(body=body, status_code=status, headers={"Content-Type": "application/json"})


@app.middleware("all")
def telemetry(event, get_response):
    logger.append_keys(stage=services().settings.stage)
    try:
        return get_response(event)
    finally:
        metrics.flush_metrics(raise_on_empty_metrics=False)


def _rejected(call):
    from chalicelib.usecases.webhooks import Rejected

    try:
        return call()
    except Rejected as exc:
        return _json_error(exc.status, exc.message, exc.details)


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
    return _rejected(lambda: crc(services(), params.get("crc_token")))


@app.route("/webhooks/x", methods=["POST"], content_types=["application/json"])
def x_webhook():
    from chalicelib.channels.x import SIGNATURE_HEADER
    from chalicelib.usecases.webhooks import receive_x

    request = app.current_request
    return _rejected(lambda: receive_x(services(), request.raw_body, request.headers.get(SIGNATURE_HEADER)))


@app.route("/webhooks/meta", methods=["GET"])
def meta_subscribe():
    from chalicelib.usecases.webhooks import meta_subscribe as subscribe

    params = app.current_request.query_params or {}
    result = _rejected(lambda: subscribe(services(), params))
    if isinstance(result, Response):
        return result
    return Response(body=result, status_code=200, headers={"Content-Type": "text/plain"})


@app.route("/webhooks/meta", methods=["POST"], content_types=["application/json"])
def meta_webhook():
    from chalicelib.usecases.webhooks import receive_meta

    request = app.current_request
    return _rejected(lambda: receive_meta(services(), request.raw_body, request.headers.get("x-hub-signature-256")))


@app.route("/webhooks/email", methods=["POST"], content_types=["text/plain", "application/json"])
def email_webhook():
    from chalicelib.channels.sns_http import confirm_subscription, fetch_certificate
    from chalicelib.usecases.webhooks import receive_email

    request = app.current_request
    return _rejected(lambda: receive_email(services(), request.raw_body, fetch_cert=fetch_certificate,
                                           confirm=confirm_subscription))


@app.route("/contact", methods=["POST"], content_types=["application/json"])
def contact():
    from chalicelib.usecases.webhooks import receive_form

    request = app.current_request
    source = (request.context.get("identity") or {}).get("sourceIp", "unknown")
    client_key = hashlib.sha256(source.encode()).hexdigest()[:16]
    result = _rejected(lambda: receive_form(services(), request.raw_body, client_key=client_key))
    if isinstance(result, Response):
        return result
    return Response(body=result, status_code=202)


# ------------------------------------------------------------------------------------------------ local sandbox
@app.route("/local/outbox", methods=["GET"])
def local_outbox():
    from chalicelib.channels.sandbox import sandbox_messages

    svc = services()
    if not svc.settings.sandbox_outbound:
        return _json_error(404, "the outbound sandbox exists only in stage local")
    return {"messages": sandbox_messages(svc.state)}


# ------------------------------------------------------------------------------------------------ queues
@app.on_sqs_message(queue=INBOUND_QUEUE, batch_size=10)
def process_inbound(event):
    from chalicelib.usecases.process import process_envelope

    svc = services()
    return run_batch(records_from_event(event.to_dict()),
                     lambda record: process_envelope(svc, record.json(), raw_ref=f"inbound#{record.message_id}"),
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


# ------------------------------------------------------------------------------------------------ status page
@app.route("/s/{token}", methods=["GET"])
def status_page(token):
    from chalicelib.usecases.status import status_page as page

    request = app.current_request
    result = page(services(), token, accept=request.headers.get("accept", ""))
    return Response(body=result.body, status_code=result.status, headers=result.headers)


# ------------------------------------------------------------------------------------------------ oversight
def _admin(call):
    from chalicelib.usecases.admin import Unauthorized, authorize
    from chalicelib.usecases.errors import NotFound
    from chalicelib.usecases.incidents import IncidentError

    svc = services()
    try:
        authorize(svc, app.current_request.headers.get("authorization"))
        return call(svc)
    except Unauthorized as exc:
        return _json_error(401, str(exc))
    except IncidentError as exc:
        return _json_error(422, str(exc))
    except NotFound as exc:
        return _json_error(404, f"not found: {exc}")


def _json_object():
    body = app.current_request.json_body if app.current_request.raw_body else {}
    if not isinstance(body, dict):
        from chalicelib.usecases.incidents import IncidentError

        raise IncidentError("the body must be a JSON object")
    return body


@app.route("/admin/rota", methods=["GET"])
def admin_rota():
    from chalicelib.usecases.admin import rota

    return _admin(rota)


@app.route("/admin/backlog/{desk}", methods=["GET"])
def admin_backlog(desk):
    from chalicelib.usecases.admin import backlog

    return _admin(lambda svc: backlog(svc, desk))


@app.route("/admin/incidents", methods=["GET"])
def list_incidents():
    from chalicelib.usecases.incidents import list_incidents as incidents

    return _admin(lambda svc: {"incidents": incidents(svc)})


@app.route("/admin/incidents", methods=["POST"], content_types=["application/json"])
def declare_incident():
    from chalicelib.usecases.incidents import declare

    result = _admin(lambda svc: declare(svc, _json_object()))
    return result if isinstance(result, Response) else Response(body=result, status_code=201)


def _change_incident(incident_id: str, *, resolve: bool):
    from chalicelib.usecases.admin import change_incident

    def call(svc):
        body = _json_object()
        follow_up = bool(body.pop("follow_up", False))
        return change_incident(svc, incident_id, body, resolve=resolve, follow_up=follow_up)

    return _admin(call)


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


@app.schedule(Rate(5, unit=Rate.MINUTES), name="sla_watch")
def sla_watch(event):
    from chalicelib.usecases.sla_watch import sla_watch as run

    return run(services())


@app.route("/admin/customers/{identity}", methods=["DELETE"])
def forget_customer(identity):
    from urllib.parse import unquote

    from chalicelib.usecases.privacy import forget_customer as forget

    return _admin(lambda svc: forget(svc, unquote(identity)))
