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


def test_the_video_command_loads_neither_other_commands_nor_the_router_without_a_model(tmp_path: Path) -> None:
    """`courier video analyze` is measured from process start (bench/video): it imports its
    own command only, and the router (pydantic, httpx) only when a vision model could answer."""
    from tests.support.videos import make_clip

    clip = make_clip(tmp_path / "clip.mp4", shots=[1.0, 1.0])
    script = (
        "import json, sys\nfrom courier_cli.main import main\n"
        f"code = main(['video', 'analyze', {str(clip.path)!r}, '--json', '--out', {str(tmp_path / 'out')!r}])\n"
        "print(json.dumps([code, sorted(m for m in ('pydantic', 'httpx', 'rich', 'courier.ai.router', 'courier_cli.doctor',"
        " 'courier_cli.cost', 'courier_cli.keys', 'courier_cli.jobs') if m in sys.modules)]))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_AI_FOUNDRY", "COURIER_AI_CATALOG"))}
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    *answer, last = result.stdout.strip().splitlines()
    code, loaded = json.loads(last)
    assert code == 0 and loaded == []
    assert json.loads("\n".join(answer))["analysis"]["status"] == "skipped"


def test_the_routers_api_loads_no_job_run_machinery() -> None:
    """The AI router's API shares its function with its worker: the import serves HTTP and
    loads nothing a job's run needs (its context, fan-out, steps), nor a third-party HTTP
    library (the router speaks http.client)."""
    loaded = "sorted(m for m in ('courier.jobs.context', 'courier.jobs.fanout', 'courier.jobs.steps', 'urllib3', 'httpx') if m in sys.modules)"
    assert after_import("ai_router", loaded) == []
