"""What every blueprint shares: the one mapping of use-case refusals to HTTP statuses, the JSON error, and the
JSON-object body."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote

from chalice.app import Request, Response

from chalicelib.usecases import errors

#: The one place use-case refusals become HTTP statuses.
ERROR_STATUS: dict[type[errors.Refused], int] = {
    errors.Malformed: 400,
    errors.NotAuthenticated: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.TooLarge: 413,
    errors.Unsupported: 415,
    errors.Invalid: 422,
    errors.TooManyRequests: 429,
}


def empty_path_parameters(event: Request, get_response: Callable[[Request], Response]) -> Response:
    """Every route: a path parameter that is empty or only spaces (``/admin/incidents//resolve``,
    ``/agent/tickets/%20``) is a 404 with the reason, before the route runs (a store refuses an empty key)."""
    empty = sorted(name for name, value in (event.uri_params or {}).items() if not unquote(value or "").strip())
    if empty:
        return json_error(404, f"the {empty[0].replace('_', ' ')} in the path is empty: give one")
    return get_response(event)


def refusal_status(exc: errors.Refused) -> int:
    return next((ERROR_STATUS[kind] for kind in type(exc).__mro__ if kind in ERROR_STATUS), 400)


def json_error(status: int, message: str, details: Any = None) -> Response:
    body: dict[str, Any] = {"error": message}
    if details:
        body["details"] = details
    return Response(body=body, status_code=status, headers={"Content-Type": "application/json"})


def answer(call: Callable[[], Any], status: int = 200, headers: dict[str, str | list[str]] | None = None) -> Any:
    """Run one use case; its refusal becomes a JSON error with the status ``ERROR_STATUS`` gives it."""
    try:
        result = call()
    except errors.Refused as exc:
        return json_error(refusal_status(exc), exc.message, exc.details)
    if status == 200 and headers is None:
        return result
    return Response(body=result, status_code=status, headers=headers or {})


def query_params(request: Request) -> Mapping[str, str]:
    """The query string's parameters (the last value of a repeated one); none is an empty mapping."""
    return request.query_params or {}


def request_body(request: Request) -> bytes:
    """The request body as bytes: Chalice decodes it to bytes, though its annotation also admits text."""
    raw_body = request.raw_body
    return raw_body if isinstance(raw_body, bytes) else raw_body.encode("utf-8")


def json_object(raw_body: bytes | None) -> Any:
    """A request body that must be a JSON object (an empty body is an empty object)."""
    from chalicelib import json_input

    if not raw_body:
        return {}
    try:
        body = json_input.load(raw_body)
    except json_input.BadJson as exc:
        raise errors.Malformed(str(exc)) from None
    if not isinstance(body, dict):
        raise errors.Malformed("the body must be a JSON object")
    return body
