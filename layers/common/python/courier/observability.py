"""Logs and metrics: Powertools Logger (jobId as correlation id) and EMF metrics.

Metrics are written one by one with their own dimensions (a count of enqueued jobs by
transport is one metric with one dimension), so nothing waits for a flush decorator.
A metric never needs an environment variable: its namespace is POWERTOOLS_METRICS_NAMESPACE
where set (every function gets it from infra.environment), else Courier's own (`Courier`).
Outside a function (the CLI's `video analyze --json`, a benchmark) none is written unless a
namespace is set: EMF lines there would corrupt what the command prints.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit, single_metric

logger = Logger()
#: The namespace when none is configured (Powertools refuses a metric without one).
DEFAULT_NAMESPACE = "Courier"


def count(name: str, value: float = 1, **dimensions: str) -> None:
    _emit(name, MetricUnit.Count, value, dimensions)


def amount(name: str, value: float, **dimensions: str) -> None:
    """A quantity without a CloudWatch unit (dollars: CloudWatch has no currency)."""
    _emit(name, MetricUnit.NoUnit, value, dimensions)


def milliseconds(name: str, value: float, **dimensions: str) -> None:
    _emit(name, MetricUnit.Milliseconds, value, dimensions)


def _emit(name: str, unit: MetricUnit, value: float, dimensions: dict[str, str]) -> None:
    namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE")
    if not namespace:
        if not os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
            return  # not a function: stdout is the command's own
        namespace = DEFAULT_NAMESPACE
    with single_metric(name=name, unit=unit, value=value, namespace=namespace, default_dimensions=dimensions or None):
        pass


def job_context(job_id: str, job_type: str) -> None:
    logger.set_correlation_id(job_id)
    logger.append_keys(jobId=job_id, jobType=job_type)
