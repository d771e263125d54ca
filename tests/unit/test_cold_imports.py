"""What a cold start costs: boto3's session machinery (about 80 ms) only when a function
first calls AWS, never just because a module that may call it was imported; and no
garbage collection while the handler loads, with the collector back on after."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


FUNCTIONS = ["jobs_api", "ai_router", "video_processor"]


def after_import(function: str, expression: str) -> object:
    """`expression`, evaluated in a fresh process right after the handler's import."""
    script = f"import gc, json, sys\nimport functions.{function}.handler\nprint(json.dumps({expression}))\n"
    env = {**os.environ, "POWERTOOLS_SERVICE_NAME": function, "AWS_DEFAULT_REGION": "us-east-1"}
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_handlers_import_leaves_boto3_for_later(function: str) -> None:
    assert after_import(function, "sorted(m for m in ('boto3', 'av', 'numpy') if m in sys.modules)") == []


@pytest.mark.parametrize("function", FUNCTIONS)
def test_the_collector_is_back_on_once_a_handler_has_loaded(function: str) -> None:
    assert after_import(function, "[gc.isenabled(), gc.get_freeze_count() > 0]") == [True, True]
