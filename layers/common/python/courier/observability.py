"""Logs and metrics: Powertools Logger (jobId as correlation id) and EMF metrics.

Metrics are written one by one with their own dimensions (a count of enqueued jobs by
transport is one metric with one dimension), so nothing waits for a flush decorator.
Outside a function (the CLI's `video analyze`, a benchmark) no namespace is set and no
metric is written: EMF lines there would be noise on stdout, and Powertools refuses a
metric without a namespace. Every function gets one from infra.environment.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit, single_metric

logger = Logger()


def count(name: str, value: float = 1, **dimensions: str) -> None:
    _emit(name, MetricUnit.Count, value, dimensions)


def amount(name: str, value: float, **dimensions: str) -> None:
    """A quantity without a CloudWatch unit (dollars: CloudWatch has no currency)."""
    _emit(name, MetricUnit.NoUnit, value, dimensions)


def milliseconds(name: str, value: float, **dimensions: str) -> None:
    _emit(name, MetricUnit.Milliseconds, value, dimensions)


def _emit(name: str, unit: MetricUnit, value: float, dimensions: dict[str, str]) -> None:
    if not os.environ.get("POWERTOOLS_METRICS_NAMESPACE"):
        return
    with single_metric(name=name, unit=unit, value=value, default_dimensions=dimensions or None):
        pass


def job_context(job_id: str, job_type: str) -> None:
    logger.set_correlation_id(job_id)
    logger.append_keys(jobId=job_id, jobType=job_type)
