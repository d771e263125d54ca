"""Metrics never need an environment variable (issue 30: the router's spend metric once
raised `SchemaValidationError` outside Lambda and killed the router benchmark's client).

Each case runs in a process of its own with no POWERTOOLS_* variable at all: the router
outside a function (nothing but its answer on stdout) and inside one (its spend in Courier's
own namespace), and the CLI's video command with a vision model configured, so the router
counts the captions' spend while `--json` prints the result. A job's metrics without the
variables are checked on the jobs stack (tests/integration/jobs/test_happy_paths.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.model_server import ModelServer
from tests.support.models import catalog_override
from tests.support.videos import make_clip

ROOT = Path(__file__).resolve().parents[2]
ROUTE = (
    "import json\n"
    "from courier.ai.request import ChatRequest\n"
    "from courier.ai.router import Router\n"
    "result = Router().route(ChatRequest.build('summarize', prompt='one line, please'))\n"
    "print(json.dumps(result.to_dict()))\n"
)


@pytest.fixture
def models() -> Iterator[ModelServer]:
    with ModelServer() as server:
        yield server


def bare(models: ModelServer, **extra: str) -> dict[str, str]:
    """This process's environment without a single Powertools variable, a model catalog at
    the fake server, and the library importable as in a function."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POWERTOOLS_") and k != "AWS_LAMBDA_FUNCTION_NAME"}
    env.update(AZURE_AI_FOUNDRY_ENDPOINT=models.url, COURIER_AI_CATALOG=catalog_override(models.url),
               PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'layers/common/python'}", **extra)
    return env


def run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SchemaValidationError" not in result.stderr, result.stderr
    return result


def emf(stdout: str) -> list[dict]:
    return [line for line in map(json.loads, stdout.splitlines()) if "_aws" in line]


def test_the_router_outside_a_function_answers_and_writes_only_its_answer(models: ModelServer) -> None:
    result = run([sys.executable, "-c", ROUTE], bare(models))
    answer = json.loads(result.stdout)  # the whole of stdout: no metric line mixed in
    assert answer["costUsd"] > 0 and answer["output"]


def test_the_router_in_a_function_counts_its_spend_in_courier(models: ModelServer) -> None:
    result = run([sys.executable, "-c", ROUTE], bare(models, AWS_LAMBDA_FUNCTION_NAME="courier-dev-ai-router"))
    answer = json.loads(result.stdout.splitlines()[-1])
    [spend] = [line for line in emf(result.stdout) if "RouterSpendUsd" in line]
    assert spend["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Courier"
    assert spend["RouterSpendUsd"] == [answer["costUsd"]] and spend["route"] == answer["route"]


def test_the_cli_video_command_captions_with_the_router_and_prints_clean_json(models: ModelServer, tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "clip.mp4", shots=[1.5, 2.0])
    result = run([sys.executable, "-m", "courier_cli.main", "video", "analyze", str(clip.path), "--json"], bare(models))
    analysis = json.loads(result.stdout)["analysis"]
    assert analysis["status"] == "done" and analysis["captions"] and analysis["costUsd"] > 0, analysis
