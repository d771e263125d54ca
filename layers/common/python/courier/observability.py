"""Logs and metrics: Powertools Logger (jobId as correlation id) and EMF metrics.

Metrics are written one by one with their own dimensions (a count of enqueued jobs by
transport is one metric with one dimension), so nothing waits for a flush decorator. Each is
one EMF line written here, the line Powertools' `single_metric` writes (a test holds them
equal, `service` dimension included): Powertools took 40 us a metric to build and validate
it, a tenth of the router's budget per request (bench/router).
A metric never needs an environment variable: its namespace is POWERTOOLS_METRICS_NAMESPACE
where set (every function gets it from infra.environment), else Courier's own (`Courier`).
Outside a function (the CLI's `video analyze --json`, a benchmark) none is written unless a
namespace is set: EMF lines there would corrupt what the command prints.
"""

from __future__ import annotations

import json
import os
import sys
import time

from aws_lambda_powertools import Logger

logger = Logger()
#: The namespace when none is configured (CloudWatch takes no metric without one).
DEFAULT_NAMESPACE = "Courier"


def count(name: str, value: float = 1, **dimensions: str) -> None:
    _emit(name, "Count", value, dimensions)


def amount(name: str, value: float, **dimensions: str) -> None:
    """A quantity without a CloudWatch unit (dollars: CloudWatch has no currency)."""
    _emit(name, "None", value, dimensions)


def milliseconds(name: str, value: float, **dimensions: str) -> None:
    _emit(name, "Milliseconds", value, dimensions)


def _emit(name: str, unit: str, value: float, dimensions: dict[str, str]) -> None:
    namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE")
    if not namespace:
        if not os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
            return  # not a function: stdout is the command's own
        namespace = DEFAULT_NAMESPACE
    service = os.environ.get("POWERTOOLS_SERVICE_NAME")
    labels = {**dimensions, "service": service} if service else dimensions
    directive = {"Namespace": namespace, "Dimensions": [list(labels)], "Metrics": [{"Name": name, "Unit": unit}]}
    line = {"_aws": {"Timestamp": int(time.time() * 1000), "CloudWatchMetrics": [directive]}, **labels, name: [float(value)]}
    sys.stdout.write(json.dumps(line, separators=(",", ":")) + "\n")


def job_context(job_id: str, job_type: str) -> None:
    logger.set_correlation_id(job_id)
    logger.append_keys(jobId=job_id, jobType=job_type)
