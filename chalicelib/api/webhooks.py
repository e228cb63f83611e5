"""Webhooks: X, Meta, Threads, e-mail and the contact form."""
from __future__ import annotations

import hashlib
from typing import Any

from chalice.app import Blueprint, Response

from chalicelib.api.http import answer, json_error, query_params, refusal_status, request_body
from chalicelib.bootstrap import services
from chalicelib.usecases import errors

bp = Blueprint(__name__)


@bp.route("/webhooks/x", methods=["GET"])
def x_crc() -> Any:
    from chalicelib.usecases.webhooks import x_crc as crc

    params = query_params(bp.current_request)
    return answer(lambda: crc(services(), params.get("crc_token")))


@bp.route("/webhooks/x", methods=["POST"], content_types=["application/json"])
def x_webhook() -> Any:
    from chalicelib.channels.x import SIGNATURE_HEADER
    from chalicelib.usecases.webhooks import receive_x

    request = bp.current_request
    return answer(lambda: receive_x(services(), request_body(request), request.headers.get(SIGNATURE_HEADER)))


@bp.route("/webhooks/meta", methods=["GET"])
def meta_subscribe() -> Any:
    from chalicelib.usecases.webhooks import meta_subscribe as subscribe

    params = query_params(bp.current_request)
    return answer(lambda: subscribe(services(), params), headers={"Content-Type": "text/plain"})


@bp.route("/webhooks/meta", methods=["POST"], content_types=["application/json"])
def meta_webhook() -> Any:
    from chalicelib.usecases.webhooks import receive_meta

    request = bp.current_request
    return answer(lambda: receive_meta(services(), request_body(request), request.headers.get("x-hub-signature-256")))


@bp.route("/webhooks/threads", methods=["GET"])
def threads_subscribe() -> Any:
    from chalicelib.usecases.webhooks import threads_subscribe as subscribe

    params = query_params(bp.current_request)
    return answer(lambda: subscribe(services(), params), headers={"Content-Type": "text/plain"})


@bp.route("/webhooks/threads", methods=["POST"], content_types=["application/json"])
def threads_webhook() -> Any:
    from chalicelib.usecases.webhooks import receive_threads

    request = bp.current_request
    return answer(lambda: receive_threads(services(), request_body(request),
                                          request.headers.get("x-hub-signature-256")))


@bp.route("/webhooks/email", methods=["POST"], content_types=["text/plain", "application/json"])
def email_webhook() -> Any:
    from chalicelib.usecases.webhooks import receive_email

    return answer(lambda: receive_email(services(), request_body(bp.current_request)))


def _page(answered: tuple[int, str, dict[str, str]]) -> Response:
    status, body, headers = answered
    return Response(body=body, status_code=status, headers=dict(headers))


@bp.route("/contact", methods=["GET"])
def contact_form() -> Response:
    from chalicelib.web import contact_page as page

    return _page(page.page(services().config.brand.name))


# Every content type reaches the route (Chalice's own 415 would not be the app's JSON error): receive_form reads
# JSON, URL-encoded and multipart bodies and refuses any other type with the app's 415.
@bp.route("/contact", methods=["POST"], content_types=["*/*"])
def contact() -> Any:
    from chalicelib.channels.form import submitted_fields
    from chalicelib.usecases.webhooks import receive_form
    from chalicelib.web import contact_page as page

    svc, request = services(), bp.current_request
    content_type = request.headers.get("content-type")
    html = page.wants_html(content_type, request.headers.get("accept", ""))
    if not page.same_site(request.headers, svc.settings.public_base_url):
        return _page(page.cross_site(svc.config.brand.name)) if html else json_error(403, page.CROSS_SITE)
    source = (request.context.get("identity") or {}).get("sourceIp", "unknown")
    client_key = hashlib.sha256(source.encode()).hexdigest()[:16]
    raw_body = request_body(request)
    if not html:
        return answer(lambda: receive_form(svc, raw_body, client_key=client_key, content_type=content_type),
                      status=202)
    values = submitted_fields(raw_body, content_type)
    try:
        receipt = receive_form(svc, raw_body, client_key=client_key, content_type=content_type)
    except errors.Refused as exc:
        return _page(page.refused(svc.config.brand.name, refusal_status(exc), exc.message, exc.details, values))
    return _page(page.thanks(svc.config.brand.name, receipt, name=values.get("name", "")))
