"""Metrics never need an environment variable: in a function without
POWERTOOLS_METRICS_NAMESPACE they go to Courier's own namespace; outside one (the CLI's video
command asks models through the router, which counts its spend) none is written, nothing raised."""

from __future__ import annotations

import json

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
