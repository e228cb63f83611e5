"""Powertools logger, metrics and tracer shared by every handler. Constructing them has no side effects."""
from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

SERVICE = "responder"
NAMESPACE = "Responder"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = Tracer(service=SERVICE, auto_patch=False)


def count(name: str, value: float = 1, **dimensions: str) -> None:
    """A count metric, emitted as EMF. With dimensions it is emitted on its own line right away."""
    if is_metrics_disabled():
        return
    if not dimensions:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
        return
    with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace=NAMESPACE,
                       default_dimensions={"service": SERVICE}) as metric:
        for key, dim in dimensions.items():
            metric.add_dimension(name=key, value=str(dim))
