"""Powertools logger, metrics and tracer shared by every handler. Constructing them has no side effects.

The tracer (and with it the X-Ray SDK, a third of the import time) is built only where tracing is on — in a Lambda
whose stage enables X-Ray and ``POWERTOOLS_TRACE_DISABLED`` is not set — on first use, never at import."""
from __future__ import annotations

import functools
import os
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

SERVICE = "responder"
NAMESPACE = "Responder"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
_tracer: Any = None
F = TypeVar("F", bound=Callable[..., Any])


def tracing_enabled() -> bool:
    disabled = os.environ.get("POWERTOOLS_TRACE_DISABLED", "").lower() in ("1", "true", "yes")
    return not disabled and bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME")) and bool(
        os.environ.get("_X_AMZN_TRACE_ID") or os.environ.get("AWS_XRAY_DAEMON_ADDRESS"))


def tracer() -> Any:
    """The Powertools tracer, built on first use (None when tracing is off)."""
    global _tracer
    if _tracer is None and tracing_enabled():
        from aws_lambda_powertools import Tracer

        _tracer = Tracer(service=SERVICE, auto_patch=False)
        _tracer.patch(["boto3", "botocore", "requests"])
    return _tracer


def capture_method(function: F) -> F:
    """``Tracer.capture_method`` when tracing is on; otherwise the function itself, with no X-Ray import."""
    traced: list[Callable[..., Any]] = []

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not traced:
            active = tracer()
            traced.append(active.capture_method(function) if active is not None else function)
        return traced[0](*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _emit(name: str, unit: MetricUnit, value: float, dimensions: dict[str, str]) -> None:
    if is_metrics_disabled():
        return
    if not dimensions:
        metrics.add_metric(name=name, unit=unit, value=value)
        return
    with single_metric(name=name, unit=unit, value=value, namespace=NAMESPACE,
                       default_dimensions={"service": SERVICE}) as metric:
        for key, dim in dimensions.items():
            metric.add_dimension(name=key, value=str(dim))


def count(name: str, value: float = 1, *, total: bool = False, **dimensions: str) -> None:
    """A count metric, emitted as EMF. With dimensions it is emitted on its own line right away; ``total`` also
    counts it without them (the service-wide figure an alarm reads, whatever the dimension values).
    Dimensions stay few-valued (channel, desk, kind, action, queue): never a ticket, customer or message id."""
    _emit(name, MetricUnit.Count, value, dimensions)
    if total and dimensions:
        _emit(name, MetricUnit.Count, value, {})


def milliseconds(name: str, elapsed: timedelta, **dimensions: str) -> None:
    """A duration in milliseconds (never negative: clocks of other systems may be ahead of ours)."""
    _emit(name, MetricUnit.Milliseconds, max(0.0, elapsed.total_seconds() * 1000), dimensions)


def seconds(name: str, elapsed: timedelta, **dimensions: str) -> None:
    """A duration in seconds (never negative)."""
    _emit(name, MetricUnit.Seconds, max(0.0, elapsed.total_seconds()), dimensions)


def gauge(name: str, value: float, **dimensions: str) -> None:
    """A level read at one moment (a remaining budget); alarms read its Minimum over a period."""
    _emit(name, MetricUnit.Count, value, dimensions)


# ------------------------------------------------------------------------------------------------ correlation
#: The log key that carries the ticket reference once a use case knows it (``correlate``).
CORRELATION_KEY = "correlation_id"


def correlate(ticket_id: str | None) -> None:
    """Every later log line of this record or request carries ``correlation_id`` = the ticket reference.
    Kept per thread (the local stack runs handlers side by side); ``uncorrelate`` ends it."""
    if ticket_id:
        logger.thread_safe_append_keys(**{CORRELATION_KEY: ticket_id[:64]})  # a reference is short; a path may not be


def uncorrelate() -> None:
    """Forget the ticket reference: called before and after each SQS record and each request, so it never
    leaks into the next one (a Lambda container keeps its logger between invocations)."""
    logger.thread_safe_remove_keys([CORRELATION_KEY])
