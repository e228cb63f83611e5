"""The agents' API under ``/agent`` (JSON): the sign-in token (``Authorization: Bearer``) names the agent."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice.app import Blueprint

from chalicelib.api.http import answer, json_error, json_object, query_params, request_body
from chalicelib.bootstrap import services
from chalicelib.usecases import errors

bp = Blueprint(__name__)


def _agent_call(call: Callable[[Any, Any], Any], status: int = 200) -> Any:
    """Agent endpoints: the sign-in token (``Authorization: Bearer``) names the agent, then the use case."""
    from chalicelib.usecases import inbox

    svc = services()

    def run() -> Any:
        agent = inbox.authenticate(svc, inbox.bearer(bp.current_request.headers.get("authorization")))
        return call(svc, agent)

    return answer(run, status=status)


def _body() -> Any:
    return json_object(request_body(bp.current_request))


@bp.route("/agent/sign-in", methods=["POST"], content_types=["application/json"])
def agent_sign_in() -> Any:
    from chalicelib.usecases.inbox import sign_in

    return answer(lambda: sign_in(services(), _body()))


@bp.route("/agent/me", methods=["GET"])
def agent_me() -> Any:
    from chalicelib.usecases.inbox import desks

    return _agent_call(desks)


@bp.route("/agent/next", methods=["POST"], content_types=["application/json"])
def agent_next() -> Any:
    from chalicelib.usecases.inbox import next_ticket

    def run(svc: Any, agent: Any) -> Any:
        desk = _body().get("desk")
        if desk is not None and not isinstance(desk, str):
            raise errors.Invalid("desk must be a desk id", details={"desk": "not a string"})
        return next_ticket(svc, agent, desk or None)

    return _agent_call(run)


@bp.route("/agent/tickets/{ticket_id}", methods=["GET"])
def agent_show(ticket_id: str) -> Any:
    from chalicelib.usecases.inbox import show

    return _agent_call(lambda svc, agent: show(svc, agent, ticket_id))


@bp.route("/agent/tickets/{ticket_id}/{action}", methods=["POST"], content_types=["application/json"])
def agent_act(ticket_id: str, action: str) -> Any:
    from chalicelib.usecases import inbox

    if action not in inbox.TICKET_ACTIONS:  # before the sign-in check, as an unknown path would be
        return json_error(404, f"no action {action}: use one of {', '.join(inbox.TICKET_ACTIONS)}")
    return _agent_call(lambda svc, agent: inbox.act(svc, agent, ticket_id, action, _body))


@bp.route("/agent/customer-links", methods=["POST"], content_types=["application/json"])
def agent_link() -> Any:
    from chalicelib.usecases.inbox import link

    return _agent_call(lambda svc, agent: link(svc, agent, _body()))


@bp.route("/agent/oversight", methods=["GET"])
def agent_oversight() -> Any:
    from chalicelib.usecases.inbox import oversight

    return _agent_call(oversight)


@bp.route("/agent/labels", methods=["GET"])
def agent_labels() -> Any:
    from chalicelib.usecases.inbox import labels

    since = query_params(bp.current_request).get("since")
    return _agent_call(lambda svc, agent: labels(svc, agent, since))
