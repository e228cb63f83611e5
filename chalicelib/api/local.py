"""Stage local only: the outbound sandbox, the clock, schedules on demand and injected mentions."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.http import answer, json_error, json_object
from chalicelib.bootstrap import services

bp = Blueprint(__name__)


@bp.route("/local/outbox", methods=["GET"])
def local_outbox():
    svc = services()
    if not svc.settings.sandbox_outbound:
        return json_error(404, "the outbound sandbox exists only in stage local")
    limit = (bp.current_request.query_params or {}).get("limit", "200")
    if not limit.isdigit() or not 1 <= int(limit) <= 20_000:
        return json_error(400, "limit must be a whole number from 1 to 20000")
    return {"messages": svc.sandbox.recent(limit=int(limit))}


@bp.route("/local/clock", methods=["POST"], content_types=["application/json"])
def local_clock():
    from chalicelib.usecases.local import advance_clock

    return answer(lambda: advance_clock(services(), json_object(bp.current_request.raw_body)))


@bp.route("/local/schedules/{name}", methods=["POST"])
def local_schedule(name):
    from chalicelib.usecases.local import run_schedule

    return answer(lambda: run_schedule(services(), name))


@bp.route("/local/bluesky/mentions", methods=["POST"], content_types=["application/json"])
def local_bluesky_mention():
    from chalicelib.usecases.local_mentions import inject

    return answer(lambda: inject(services(), "bluesky", bp.current_request.raw_body), status=202)


@bp.route("/local/mastodon/mentions", methods=["POST"], content_types=["application/json"])
def local_mastodon_mention():
    from chalicelib.usecases.local_mentions import inject

    return answer(lambda: inject(services(), "mastodon", bp.current_request.raw_body), status=202)


@bp.route("/local/email/mentions", methods=["POST"], content_types=["application/json"])
def local_email_mention():
    from chalicelib.usecases.local_mentions import inject

    return answer(lambda: inject(services(), "email", bp.current_request.raw_body), status=202)
