"""The library's tests run twice: on this machine's Python and on the one Lambda runs."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

from infra.config import LAMBDA_PYTHON_VERSION

ROOT = Path(__file__).resolve().parents[2]


def test_the_fetched_interpreter_is_the_deployed_version() -> None:
    spec = importlib.util.spec_from_file_location("lambda_python", ROOT / "scripts" / "lambda_python.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.VERSION == LAMBDA_PYTHON_VERSION


@pytest.mark.skipif(not os.environ.get("COURIER_LAMBDA_RUN"), reason="only in `make test`'s second run")
def test_the_second_run_is_on_lambdas_python() -> None:
    assert f"{sys.version_info.major}.{sys.version_info.minor}" == LAMBDA_PYTHON_VERSION
