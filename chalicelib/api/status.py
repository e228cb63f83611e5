"""Status pages: the health check, a ticket's status page and the status lookup form."""
from __future__ import annotations

import hashlib

from chalice.app import Blueprint, Response

from chalicelib.api.http import request_body
from chalicelib.bootstrap import services
from chalicelib.usecases import errors

bp = Blueprint(__name__)


@bp.route("/health", methods=["GET"])
def health() -> Response:
    from chalicelib.usecases.health import health as check

    report = check(services())
    return Response(body=report, status_code=200 if report["ok"] else 503)


@bp.route("/s/{token}", methods=["GET"])
def status_page(token: str) -> Response:
    from chalicelib.usecases.status import status_view
    from chalicelib.web import status_page as page

    token, as_json = page.wants_json(token or "", bp.current_request.headers.get("accept", ""))
    try:
        status, body, headers = page.respond(status_view(services(), token), as_json)
    except errors.NotFound:
        status, body, headers = page.not_found()
    return Response(body=body, status_code=status, headers=dict(headers))


@bp.route("/status", methods=["GET"])
def status_lookup_form() -> Response:
    from chalicelib.web import status_lookup as page

    status, body, headers = page.page(services().config.brand.name)
    return Response(body=body, status_code=status, headers=dict(headers))


@bp.route("/status", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def status_lookup() -> Response:
    from chalicelib.usecases.status import lookup
    from chalicelib.web import status_lookup as page

    svc, request = services(), bp.current_request
    brand = svc.config.brand.name
    if not page.same_site(request.headers, svc.settings.public_base_url):
        status, body, headers = page.cross_site(brand)
        return Response(body=body, status_code=status, headers=dict(headers))
    source = (request.context.get("identity") or {}).get("sourceIp", "unknown")
    client_key = hashlib.sha256(source.encode()).hexdigest()[:16]
    reference, who = page.read_form(request_body(request))
    try:
        status, body, headers = page.see_other(lookup(svc, reference, who, client_key=client_key))
    except errors.TooManyRequests:
        status, body, headers = page.too_many(brand)
    except errors.NotFound:
        status, body, headers = page.not_found(brand)
    return Response(body=body, status_code=status, headers=dict(headers))
