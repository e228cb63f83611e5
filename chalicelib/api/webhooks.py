"""Webhooks: X, Meta, e-mail and the contact form."""
from __future__ import annotations

import hashlib
from typing import Any

from chalice.app import Blueprint

from chalicelib.api.http import answer, query_params, request_body
from chalicelib.bootstrap import services

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


@bp.route("/webhooks/email", methods=["POST"], content_types=["text/plain", "application/json"])
def email_webhook() -> Any:
    from chalicelib.usecases.webhooks import receive_email

    return answer(lambda: receive_email(services(), request_body(bp.current_request)))


@bp.route("/contact", methods=["POST"], content_types=["application/json"])
def contact() -> Any:
    from chalicelib.usecases.webhooks import receive_form

    request = bp.current_request
    source = (request.context.get("identity") or {}).get("sourceIp", "unknown")
    client_key = hashlib.sha256(source.encode()).hexdigest()[:16]
    return answer(lambda: receive_form(services(), request_body(request), client_key=client_key), status=202)
