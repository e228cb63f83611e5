"""Admin (oversight) endpoints under ``/admin``: the admin bearer token first, then the use case."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice.app import Blueprint

from chalicelib.api.http import answer, json_object, query_params, request_body
from chalicelib.bootstrap import services

bp = Blueprint(__name__)


def _admin(call: Callable[[Any], Any], status: int = 200) -> Any:
    """Admin endpoints: the bearer token first, then the use case."""
    from chalicelib.usecases.admin import authorize

    svc = services()

    def run() -> Any:
        authorize(svc, bp.current_request.headers.get("authorization"))
        return call(svc)

    return answer(run, status=status)


def _body() -> Any:
    return json_object(request_body(bp.current_request))


@bp.route("/admin/rota", methods=["GET"])
def admin_rota() -> Any:
    from chalicelib.usecases.admin import rota

    return _admin(rota)


@bp.route("/admin/backlog/{desk}", methods=["GET"])
def admin_backlog(desk: str) -> Any:
    from chalicelib.usecases.admin import backlog
    from chalicelib.usecases.desk.commands import list_limit

    params = query_params(bp.current_request)
    return _admin(lambda svc: backlog(svc, desk, list_limit(params.get("limit"), 50), params.get("cursor") or None))


@bp.route("/admin/acknowledgements", methods=["GET"])
def admin_acknowledgements() -> Any:
    from chalicelib.usecases.admin import acknowledgements

    return _admin(acknowledgements)


@bp.route("/admin/incidents", methods=["GET"])
def list_incidents() -> Any:
    from chalicelib.usecases.incidents import list_incidents as incidents

    return _admin(lambda svc: {"incidents": [i.to_dict() for i in incidents(svc)]})


@bp.route("/admin/incidents", methods=["POST"], content_types=["application/json"])
def declare_incident() -> Any:
    from chalicelib.usecases.incidents import declare

    return _admin(lambda svc: declare(svc, _body()).to_dict(), status=201)


def _change_incident(incident_id: str, *, resolve: bool) -> Any:
    from chalicelib.usecases.admin import change_incident

    return _admin(lambda svc: change_incident(svc, incident_id, _body(), resolve=resolve))


@bp.route("/admin/incidents/{incident_id}", methods=["POST"], content_types=["application/json"])
def update_incident(incident_id: str) -> Any:
    return _change_incident(incident_id, resolve=False)


@bp.route("/admin/incidents/{incident_id}/resolve", methods=["POST"], content_types=["application/json"])
def resolve_incident(incident_id: str) -> Any:
    return _change_incident(incident_id, resolve=True)


@bp.route("/admin/customers/{identity}", methods=["DELETE"])
def forget_customer(identity: str) -> Any:
    from urllib.parse import unquote

    from chalicelib.usecases.privacy import forget_customer as forget

    return _admin(lambda svc: forget(svc, unquote(identity)))


@bp.route("/admin/customer-links", methods=["POST"], content_types=["application/json"])
def link_customers() -> Any:
    from chalicelib.usecases.customers import link, link_request

    return _admin(lambda svc: link(svc, *link_request(_body())).to_json())


@bp.route("/admin/customer-links/{identity}", methods=["DELETE"])
def unlink_customer(identity: str) -> Any:
    from urllib.parse import unquote

    from chalicelib.usecases.customers import unlink

    return _admin(lambda svc: unlink(svc, unquote(identity)))


@bp.route("/admin/tickets/{ticket_id}", methods=["GET"])
def show_ticket(ticket_id: str) -> Any:
    from chalicelib.usecases.admin import ticket_view

    return _admin(lambda svc: ticket_view(svc, ticket_id))
