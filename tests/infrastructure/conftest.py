"""One synthesized template per context, shared by the module's tests (synth takes seconds)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import assertions

from infra.app_factory import build_app

NO_BUNDLING = {"aws:cdk:bundling-stacks": []}


def assert_every_finding_acknowledged(report: Path) -> None:
    """cdk-nag's validation report: both packs ran clean, each suppression with its reason."""
    reports = json.loads(report.read_text())["pluginReports"]
    assert {r["pluginName"] for r in reports} <= {"AwsSolutions", "Serverless"}
    for plugin in reports:
        assert plugin["conclusion"] == "success" and plugin["violations"] == [], plugin["violations"]
        for suppressed in plugin.get("suppressedViolations", []):
            assert len(suppressed.get("reason", "")) > 40, suppressed


def synth(tmp_path_factory: pytest.TempPathFactory, **context: Any) -> tuple[Any, assertions.Template]:
    """Synthesize like `cdk synth` (cdk-nag included; a finding raises) and return the template."""
    app, stack = build_app({**NO_BUNDLING, **context}, outdir=str(tmp_path_factory.mktemp("cdk.out")))
    app.synth()
    return stack, assertions.Template.from_stack(stack)


@pytest.fixture(scope="session")
def default_synth(tmp_path_factory: pytest.TempPathFactory):
    return synth(tmp_path_factory)


@pytest.fixture(scope="session")
def template(default_synth) -> assertions.Template:
    return default_synth[1]


@pytest.fixture(scope="session")
def resources(template: assertions.Template) -> dict[str, dict]:
    return template.to_json()["Resources"]


def of_type(resources: dict[str, dict], kind: str) -> dict[str, dict]:
    return {logical_id: r for logical_id, r in resources.items() if r["Type"] == kind}
