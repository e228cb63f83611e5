"""The agents' API under ``/agent`` (JSON): the sign-in token (``Authorization: Bearer``) names the agent."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice.app import Blueprint

from chalicelib.api.http import answer, json_error, json_object, query_params, refusal_status, request_body
from chalicelib.bootstrap import services
from chalicelib.usecases import errors

bp = Blueprint(__name__)


def _agent_call(call: Callable[[Any, Any], Any], status: int = 200) -> Any:
    """Agent endpoints: the sign-in token (``Authorization: Bearer``) names the agent, then the use case."""
    from chalicelib.usecases.desk import access

    svc = services()

    def run() -> Any:
        agent = access.authenticate(svc, access.bearer(bp.current_request.headers.get("authorization")))
        return call(svc, agent)

    return answer(run, status=status)


def _body() -> Any:
    return json_object(request_body(bp.current_request))


@bp.route("/agent/sign-in", methods=["POST"], content_types=["application/json"])
def agent_sign_in() -> Any:
    from chalicelib.usecases.desk import access, views
    from chalicelib.usecases.desk.commands import SignIn

    svc = services()
    return answer(lambda: views.signed_in(svc, access.sign_in(svc, SignIn.from_json(_body()))).to_json())


@bp.route("/agent/me", methods=["GET"])
def agent_me() -> Any:
    from chalicelib.usecases.desk.views import desks

    return _agent_call(lambda svc, agent: desks(svc, agent).to_json())


@bp.route("/agent/views", methods=["GET"])
def agent_views() -> Any:
    from chalicelib.usecases.desk.saved_views import saved_views, view_json

    return _agent_call(lambda svc, agent: {"views": [view_json(v) for v in saved_views(svc, agent)]})


@bp.route("/agent/views", methods=["POST"], content_types=["application/json"])
def agent_save_view() -> Any:
    from chalicelib.usecases.desk.saved_views import SaveView, save_view, view_json

    return _agent_call(lambda svc, agent: view_json(save_view(svc, agent, SaveView.from_json(_body()))))


@bp.route("/agent/views/{name}", methods=["DELETE"])
def agent_delete_view(name: str) -> Any:
    from urllib.parse import unquote

    from chalicelib.usecases.desk.saved_views import delete_view

    def deleted(svc: Any, agent: Any) -> dict[str, str]:
        delete_view(svc, agent, unquote(name))
        return {"deleted": unquote(name)}

    return _agent_call(deleted)


@bp.route("/agent/pulse", methods=["GET"])
def agent_pulse() -> Any:
    from chalicelib.usecases.desk.pulse import pulse

    return _agent_call(lambda svc, agent: pulse(svc, agent).to_json())


@bp.route("/agent/next", methods=["POST"], content_types=["application/json"])
def agent_next() -> Any:
    from chalicelib.usecases.desk.claims import next_ticket
    from chalicelib.usecases.desk.commands import Next
    from chalicelib.usecases.desk.views import with_view

    def take(svc: Any, agent: Any) -> Any:
        asked = Next.from_json(_body())
        return with_view(svc, agent, next_ticket(svc, agent, asked.desk, asked.listening))

    return _agent_call(take)


@bp.route("/agent/tickets/{ticket_id}", methods=["GET"])
def agent_show(ticket_id: str) -> Any:
    from chalicelib.usecases.desk.views import show

    return _agent_call(lambda svc, agent: show(svc, agent, ticket_id).to_json())


@bp.route("/agent/tickets/{ticket_id}/{action}", methods=["POST"], content_types=["application/json"])
def agent_act(ticket_id: str, action: str) -> Any:
    from chalicelib.usecases.desk.commands import Given, ticket_action
    from chalicelib.usecases.desk.views import act_and_view

    try:
        known = ticket_action(action)
    except errors.NotFound as exc:  # before the sign-in check, as an unknown path would be
        return json_error(refusal_status(exc), exc.message)
    return _agent_call(lambda svc, agent: act_and_view(svc, agent, ticket_id, known, Given.of_json(_body)))


@bp.route("/agent/customer-links", methods=["POST"], content_types=["application/json"])
def agent_link() -> Any:
    from chalicelib.usecases.desk.actions import link
    from chalicelib.usecases.desk.commands import Link

    return _agent_call(lambda svc, agent: link(svc, agent, Link.from_json(_body())).to_json())


@bp.route("/agent/oversight", methods=["GET"])
def agent_oversight() -> Any:
    from chalicelib.usecases.desk.oversight import oversight

    return _agent_call(lambda svc, agent: oversight(svc, agent).to_json())


@bp.route("/agent/suggested-incidents/{suggestion_id}/declare", methods=["POST"],
          content_types=["application/json"])
def agent_declare_suggested(suggestion_id: str) -> Any:
    from chalicelib.usecases.suggested_incidents import declare

    return _agent_call(lambda svc, agent: {"incident": declare(svc, agent, suggestion_id, _body()).to_dict()},
                       status=201)


@bp.route("/agent/suggested-incidents/{suggestion_id}/dismiss", methods=["POST"],
          content_types=["application/json"])
def agent_dismiss_suggested(suggestion_id: str) -> Any:
    from chalicelib.usecases.suggested_incidents import dismiss

    return _agent_call(lambda svc, agent: dismiss(svc, agent, suggestion_id))


@bp.route("/agent/labels", methods=["GET"])
def agent_labels() -> Any:
    from chalicelib.usecases.desk.oversight import labels

    since = query_params(bp.current_request).get("since")
    return _agent_call(lambda svc, agent: labels(svc, agent, since).to_json())


@bp.route("/agent/desks/{desk}/tickets", methods=["GET"])
def agent_desk_tickets(desk: str) -> Any:
    from chalicelib.usecases.desk.commands import ListFilters, list_limit
    from chalicelib.usecases.desk.lists import desk_tickets

    params = query_params(bp.current_request)
    return _agent_call(lambda svc, agent: desk_tickets(
        svc, agent, desk, ListFilters.from_query(params), params.get("cursor") or None,
        list_limit(params.get("limit"))).to_json())


@bp.route("/agent/search", methods=["GET"])
def agent_search() -> Any:
    from chalicelib.usecases.desk.commands import search_query
    from chalicelib.usecases.desk.search import search

    params = query_params(bp.current_request)
    return _agent_call(lambda svc, agent: search(svc, agent, search_query(params.get("q"))).to_json())


# ------------------------------------------------------------------------------------------------ saved replies
@bp.route("/agent/tickets/{ticket_id}/saved-replies", methods=["GET"])
def agent_saved_replies(ticket_id: str) -> Any:
    from chalicelib.usecases.desk.saved_replies import saved_replies

    private = query_params(bp.current_request).get("private", "") in ("1", "true", "yes")
    return _agent_call(lambda svc, agent: saved_replies(svc, agent, ticket_id, private=private).to_json())


@bp.route("/agent/saved-replies", methods=["GET"])
def agent_saved_reply_list() -> Any:
    from chalicelib.usecases.desk.saved_replies import listing

    return _agent_call(lambda svc, agent: listing(svc, agent).to_json())


@bp.route("/agent/saved-replies", methods=["POST"], content_types=["application/json"])
def agent_saved_reply_add() -> Any:
    from chalicelib.usecases.desk.saved_replies import save

    return _agent_call(lambda svc, agent: {"saved_reply": save(svc, agent, _body()).to_json()}, status=201)


@bp.route("/agent/saved-replies/{reply_id}", methods=["POST"], content_types=["application/json"])
def agent_saved_reply_edit(reply_id: str) -> Any:
    from chalicelib.usecases.desk.saved_replies import save

    return _agent_call(lambda svc, agent: {"saved_reply": save(svc, agent, {**_body(), "id": reply_id}).to_json()})


@bp.route("/agent/saved-replies/{reply_id}", methods=["DELETE"])
def agent_saved_reply_delete(reply_id: str) -> Any:
    from chalicelib.usecases.desk.saved_replies import delete

    return _agent_call(lambda svc, agent: {"deleted": delete(svc, agent, reply_id).to_json()})


# ------------------------------------------------------------------------------------------------ reports
@bp.route("/agent/reports", methods=["GET"])
def agent_reports() -> Any:
    from chalicelib.domain.reports import report_json
    from chalicelib.usecases.reports import report_for

    params = query_params(bp.current_request)
    return _agent_call(lambda svc, agent: report_json(report_for(svc, agent, params)))


@bp.route("/agent/reports.csv", methods=["GET"])
def agent_report_csv() -> Any:
    from chalice.app import Response

    from chalicelib.usecases.reports import report_csv

    params = query_params(bp.current_request)

    def csv_file(svc: Any, agent: Any) -> Response:
        name, text = report_csv(svc, agent, params)
        return Response(body=text, status_code=200, headers={
            "Content-Type": "text/csv; charset=utf-8", "Content-Disposition": f'attachment; filename="{name}"'})

    return _agent_call(csv_file)
