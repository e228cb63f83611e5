"""Stage local only: the outbound sandbox, the clock, schedules on demand and injected mentions."""
from __future__ import annotations

from typing import Any

from chalice.app import Blueprint

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


@bp.route("/local/email/mentions", methods=["POST"], content_types=["application/json"])
def local_email_mention() -> Any:
    from chalicelib.usecases.local_mentions import inject

    return answer(lambda: inject(services(), "email", request_body(bp.current_request)), status=202)
