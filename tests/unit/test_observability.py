"""Metrics never need an environment variable: in a function without
POWERTOOLS_METRICS_NAMESPACE they go to Courier's own namespace; outside one (the CLI's video
command asks models through the router, which counts its spend) none is written, nothing raised."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from courier import observability


def test_a_metric_without_a_namespace_is_not_written(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("POWERTOOLS_METRICS_NAMESPACE", raising=False)
    observability.amount("RouterSpendUsd", 0.25, route="vision")
    assert capsys.readouterr().out == ""


def test_in_a_function_it_is_an_emf_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "CourierTest")
    observability.count("JobsEnqueued", transport="sqs")
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["JobsEnqueued"] == [1.0] and line["transport"] == "sqs"
    assert line["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "CourierTest"


def test_in_a_function_without_a_namespace_it_is_courier(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("POWERTOOLS_METRICS_NAMESPACE", raising=False)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "courier-dev-ai-router")
    observability.amount("RouterSpendUsd", 0.25, route="vision")
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["_aws"]["CloudWatchMetrics"][0]["Namespace"] == observability.DEFAULT_NAMESPACE and line["RouterSpendUsd"] == [0.25]


@pytest.mark.parametrize("service", ["", "courier-dev-video-processor"])
@pytest.mark.parametrize(("write", "name", "value", "dimensions"), [
    (observability.count, "JobsEnqueued", 1, {"transport": "qstash"}),
    (observability.count, "EventsPosted", 3, {}),
    (observability.amount, "RouterSpendUsd", 0.000125, {"route": "vision"}),
    (observability.milliseconds, "JobDuration", 1234.5, {"type": "video.analyze"}),
])
def test_each_line_is_the_one_powertools_writes(write: Callable[..., None], name: str, value: float, dimensions: dict[str, str], service: str,
                                                monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The EMF line is written here, not by Powertools (bench/router: 40 us a metric), and must
    stay the line Powertools' single_metric writes: the dashboard and alarms read it."""
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", service)
    write(name, value, **dimensions)
    ours = json.loads(capsys.readouterr().out)
    unit = {observability.count: MetricUnit.Count, observability.amount: MetricUnit.NoUnit, observability.milliseconds: MetricUnit.Milliseconds}[write]
    with single_metric(name=name, unit=unit, value=value, namespace="CourierTest", default_dimensions=dimensions or None):
        pass
    theirs = json.loads(capsys.readouterr().out)
    assert abs(ours["_aws"].pop("Timestamp") - theirs["_aws"].pop("Timestamp")) < 5000
    assert ours == theirs
