"""Stage local only: the outbound sandbox, the clock, schedules on demand and injected mentions."""
from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Response

from chalicelib.api.http import answer, json_error, json_object, query_params, request_body
from chalicelib.bootstrap import services

bp = Blueprint(__name__)


@bp.route("/local/outbox", methods=["GET"])
def local_outbox() -> Any:
    svc = services()
    if not svc.settings.sandbox_outbound:
        return json_error(404, "the outbound sandbox exists only in stage local")
    limit = query_params(bp.current_request).get("limit", "200")
    if not limit.isdigit() or not 1 <= int(limit) <= 20_000:
        return json_error(400, "limit must be a whole number from 1 to 20000")
    return {"messages": svc.sandbox.recent(limit=int(limit))}


@bp.route("/local/notifications", methods=["GET"])
def local_notifications() -> Any:
    """What the local stack would have posted to Slack, Teams and signed webhooks, newest first (``?desk=``,
    ``?limit=``)."""
    svc = services()
    asked = _notifications_asked(svc)
    if isinstance(asked, Response):
        return asked
    desk, limit = asked
    return {"notifications": svc.stores.notify_log.recent(desk=desk, limit=limit)}


def _notifications_asked(svc: Any) -> tuple[str | None, int] | Response:
    """``?desk=`` and ``?limit=`` of the notification stand-in's routes, or the refusal (stage local only)."""
    if svc.settings.stage != "local":
        return json_error(404, "the notification stand-in exists only in stage local")
    params = query_params(bp.current_request)
    limit, desk = params.get("limit", "200"), params.get("desk") or None
    if not limit.isdigit() or not 1 <= int(limit) <= 20_000:
        return json_error(400, "limit must be a whole number from 1 to 20000")
    if desk is not None and (len(desk) > 64 or not desk.replace("_", "").isalnum()):
        return json_error(400, "desk must be a desk id")
    return desk, int(limit)


@bp.route("/local/notifications/view", methods=["GET"])
def local_notifications_view() -> Any:
    """The same list as a page, each notification roughly as Slack, Teams or the webhook's receiver shows it."""
    from chalicelib.web import notifications_page

    svc = services()
    asked = _notifications_asked(svc)
    if isinstance(asked, Response):
        return asked
    desk, limit = asked
    entries = svc.stores.notify_log.recent(desk=desk, limit=limit)
    status, body, headers = notifications_page.respond(entries, desk=desk, limit=limit)
    return Response(body=body, status_code=status, headers=dict(headers))


@bp.route("/local/clock", methods=["POST"], content_types=["application/json"])
def local_clock() -> Any:
    from chalicelib.usecases.local import advance_clock

    return answer(lambda: advance_clock(services(), json_object(request_body(bp.current_request))))


@bp.route("/local/schedules/{name}", methods=["POST"])
def local_schedule(name: str) -> Any:
    from chalicelib.usecases.local import run_schedule

    return answer(lambda: run_schedule(services(), name))


@bp.route("/local/bluesky/mentions", methods=["POST"], content_types=["application/json"])
def local_bluesky_mention() -> Any:
    from chalicelib.usecases.local_mentions import inject

    return answer(lambda: inject(services(), "bluesky", request_body(bp.current_request)), status=202)


@bp.route("/local/mastodon/mentions", methods=["POST"], content_types=["application/json"])
def local_mastodon_mention() -> Any:
    from chalicelib.usecases.local_mentions import inject

    return answer(lambda: inject(services(), "mastodon", request_body(bp.current_request)), status=202)


@bp.route("/local/whatsapp/messages", methods=["POST"], content_types=["application/json"])
def local_whatsapp_message() -> Any:
    from chalicelib.usecases.local_mentions import inject

    return answer(lambda: inject(services(), "whatsapp", request_body(bp.current_request)), status=202)


@bp.route("/local/threads/mentions", methods=["POST"], content_types=["application/json"])
def local_threads_mention() -> Any:
    from chalicelib.usecases.local_mentions import inject

    return answer(lambda: inject(services(), "threads", request_body(bp.current_request)), status=202)


@bp.route("/local/email/mentions", methods=["POST"], content_types=["application/json"])
def local_email_mention() -> Any:
    from chalicelib.usecases.local_mentions import inject

    return answer(lambda: inject(services(), "email", request_body(bp.current_request)), status=202)


@bp.route("/local/listening/posts", methods=["POST"], content_types=["application/json"])
def local_listening_posts() -> Any:
    """Posts for listening's search stand-ins (X, Bluesky, Mastodon): ``poll_listening`` then finds them."""
    from chalicelib.usecases.local_listening import inject_posts

    return answer(lambda: inject_posts(services(), request_body(bp.current_request)), status=202)
