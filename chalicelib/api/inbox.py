"""The agents' web inbox under ``/inbox``: pages and forms, rendered by ``chalicelib.web.inbox_page``."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from chalice.app import Blueprint, Response

from chalicelib.api.http import refusal_status
from chalicelib.bootstrap import services

if TYPE_CHECKING:
    from chalicelib.web.inbox_page import Page, Web
    from chalicelib.web.reports_page import ReportsWeb

bp = Blueprint(__name__)

FORM = ["application/x-www-form-urlencoded"]


def _web(answer: Callable[[Web], Page]) -> Response:
    """Web inbox pages: ``chalicelib.web.inbox_page`` reads the request (session cookie, form, CSRF token) and renders
    what the use case answers; a refusal keeps the status ``ERROR_STATUS`` gives it."""
    from chalicelib.web.inbox_page import Web

    status, body, headers = answer(Web(services(), bp.current_request, refusal_status))
    return Response(body=body, status_code=status, headers=headers)


def _reports(answer: Callable[[ReportsWeb], Page]) -> Response:
    """``_web`` for the Reports page and its CSV files (``chalicelib.web.reports_page``)."""
    from chalicelib.web.reports_page import ReportsWeb

    status, body, headers = answer(ReportsWeb(services(), bp.current_request, refusal_status))
    return Response(body=body, status_code=status, headers=headers)


@bp.route("/inbox", methods=["GET"])
def inbox_home() -> Response:
    from chalicelib.usecases.desk.views import desks

    return _web(lambda web: web.home(desks))


@bp.route("/inbox/sign-in", methods=["GET"])
def inbox_sign_in_form() -> Response:
    return _web(lambda web: web.sign_in_form())


@bp.route("/inbox/sign-in", methods=["POST"], content_types=FORM)
def inbox_sign_in() -> Response:
    from chalicelib.usecases.desk.access import sign_in

    return _web(lambda web: web.sign_in(sign_in))


@bp.route("/inbox/sign-out", methods=["POST"], content_types=FORM)
def inbox_sign_out() -> Response:
    return _web(lambda web: web.sign_out())


@bp.route("/inbox/next", methods=["POST"], content_types=FORM)
def inbox_next() -> Response:
    from chalicelib.usecases.desk.claims import next_ticket

    return _web(lambda web: web.take_next(next_ticket))


@bp.route("/inbox/pulse", methods=["GET"])
def inbox_pulse() -> Response:
    from chalicelib.usecases.desk.pulse import pulse

    return _web(lambda web: web.pulse(pulse))


@bp.route("/inbox/oversight", methods=["GET"])
def inbox_oversight() -> Response:
    from chalicelib.usecases.desk.oversight import oversight

    return _web(lambda web: web.oversight(oversight))


@bp.route("/inbox/suggested-incidents/{suggestion_id}/declare", methods=["POST"], content_types=FORM)
def inbox_declare_suggested(suggestion_id: str) -> Response:
    from chalicelib.usecases.suggested_incidents import declare

    return _web(lambda web: web.decide_suggestion(
        suggestion_id, "Suggested incident declared: matching acknowledgements now carry its explanation.", declare))


@bp.route("/inbox/suggested-incidents/{suggestion_id}/dismiss", methods=["POST"], content_types=FORM)
def inbox_dismiss_suggested(suggestion_id: str) -> Response:
    from chalicelib.usecases.suggested_incidents import dismiss

    return _web(lambda web: web.decide_suggestion(suggestion_id, "Suggested incident dismissed: nobody was told.",
                                                  lambda svc, agent, sid, _form: dismiss(svc, agent, sid)))


@bp.route("/inbox/reports", methods=["GET"])
def inbox_reports() -> Response:
    from chalicelib.usecases.reports import report_for

    return _reports(lambda web: web.reports(report_for))


@bp.route("/inbox/reports.csv", methods=["GET"])
def inbox_reports_csv() -> Response:
    from chalicelib.usecases.reports import report_for

    return _reports(lambda web: web.reports_csv(report_for))


@bp.route("/inbox/reports/assets/{name}", methods=["GET"])
def inbox_reports_asset(name: str) -> Response:
    from chalicelib.web.reports_page import asset_page

    status, body, headers = asset_page(name)
    return Response(body=body, status_code=status, headers=headers)


@bp.route("/inbox/labels.csv", methods=["GET"])
def inbox_labels() -> Response:
    from chalicelib.usecases.desk.oversight import labels

    return _web(lambda web: web.labels_csv(labels))


@bp.route("/inbox/tickets/{ticket_id}", methods=["GET"])
def inbox_ticket(ticket_id: str) -> Response:
    from chalicelib.usecases.desk.views import show

    return _web(lambda web: web.ticket(ticket_id, show))


@bp.route("/inbox/tickets/{ticket_id}/{action}", methods=["POST"], content_types=FORM)
def inbox_act(ticket_id: str, action: str) -> Response:
    from chalicelib.usecases.desk.actions import act

    return _web(lambda web: web.act(ticket_id, action, act))


@bp.route("/inbox/desks/{desk}", methods=["GET"])
def inbox_desk(desk: str) -> Response:
    from chalicelib.usecases.desk.lists import desk_tickets

    return _web(lambda web: web.desk_list(desk, desk_tickets))


@bp.route("/inbox/search", methods=["GET"])
def inbox_search() -> Response:
    from chalicelib.usecases.desk.search import search

    return _web(lambda web: web.search(search))


@bp.route("/inbox/assets/{name}", methods=["GET"])
def inbox_asset(name: str) -> Response:
    from chalicelib.web.inbox_page import asset_page

    status, body, headers = asset_page(name)
    return Response(body=body, status_code=status, headers=headers)


@bp.route("/inbox/views", methods=["POST"], content_types=FORM)
def inbox_save_view() -> Response:
    from chalicelib.usecases.desk.saved_views import save_view

    return _web(lambda web: web.save_view(save_view))


@bp.route("/inbox/views/{name}/delete", methods=["POST"], content_types=FORM)
def inbox_delete_view(name: str) -> Response:
    from chalicelib.usecases.desk.saved_views import delete_view

    return _web(lambda web: web.delete_view(name, delete_view))


@bp.route("/inbox/saved-replies", methods=["GET"])
def inbox_saved_replies() -> Response:
    from chalicelib.usecases.desk.saved_replies import listing

    return _web(lambda web: web.saved_replies(listing))


@bp.route("/inbox/saved-replies", methods=["POST"], content_types=FORM)
def inbox_saved_reply_save() -> Response:
    from chalicelib.usecases.desk.saved_replies import save

    return _web(lambda web: web.save_saved_reply(save))


@bp.route("/inbox/saved-replies/{reply_id}/delete", methods=["POST"], content_types=FORM)
def inbox_saved_reply_delete(reply_id: str) -> Response:
    from chalicelib.usecases.desk.saved_replies import delete

    return _web(lambda web: web.delete_saved_reply(reply_id, delete))
