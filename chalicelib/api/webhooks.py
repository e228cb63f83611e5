"""Webhooks: X, Meta, e-mail and the contact form."""
from __future__ import annotations

import hashlib

from chalice import Blueprint

from chalicelib.api.http import answer
from chalicelib.bootstrap import services

bp = Blueprint(__name__)


@bp.route("/webhooks/x", methods=["GET"])
def x_crc():
    from chalicelib.usecases.webhooks import x_crc as crc

    params = bp.current_request.query_params or {}
    return answer(lambda: crc(services(), params.get("crc_token")))


@bp.route("/webhooks/x", methods=["POST"], content_types=["application/json"])
def x_webhook():
    from chalicelib.channels.x import SIGNATURE_HEADER
    from chalicelib.usecases.webhooks import receive_x

    request = bp.current_request
    return answer(lambda: receive_x(services(), request.raw_body, request.headers.get(SIGNATURE_HEADER)))


@bp.route("/webhooks/meta", methods=["GET"])
def meta_subscribe():
    from chalicelib.usecases.webhooks import meta_subscribe as subscribe

    params = bp.current_request.query_params or {}
    return answer(lambda: subscribe(services(), params), headers={"Content-Type": "text/plain"})


@bp.route("/webhooks/meta", methods=["POST"], content_types=["application/json"])
def meta_webhook():
    from chalicelib.usecases.webhooks import receive_meta

    request = bp.current_request
    return answer(lambda: receive_meta(services(), request.raw_body, request.headers.get("x-hub-signature-256")))


@bp.route("/webhooks/email", methods=["POST"], content_types=["text/plain", "application/json"])
def email_webhook():
    from chalicelib.usecases.webhooks import receive_email

    return answer(lambda: receive_email(services(), bp.current_request.raw_body))


@bp.route("/contact", methods=["POST"], content_types=["application/json"])
def contact():
    from chalicelib.usecases.webhooks import receive_form

    request = bp.current_request
    source = (request.context.get("identity") or {}).get("sourceIp", "unknown")
    client_key = hashlib.sha256(source.encode()).hexdigest()[:16]
    return answer(lambda: receive_form(services(), request.raw_body, client_key=client_key), status=202)
