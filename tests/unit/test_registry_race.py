"""A worker's first jobs of a type, arriving together, all find its handler.

The local runtime runs a function's concurrent invocations as threads of one process (a
warm Lambda environment takes one at a time, but any threaded host may not). The handler
is imported on the type's first job; a second first job that came while the import ran
found the type in neither the lazy map (already popped) nor the loaded one (not yet
stored), and failed its job for good as `unknown_job_type`: the one `failed` job of the
QStash-outage burst under the full suite's load, whose first jobs met a cold worker.
"""

from __future__ import annotations

import sys
import textwrap
import threading
from pathlib import Path

import pytest

from courier.errors import InvalidInput
from courier.jobs.registry import JobRegistry

TRIALS = 12
THREADS = 8


@pytest.fixture
def slow_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A fresh handler module per trial whose import takes a while (as PyAV's does)."""
    monkeypatch.syspath_prepend(str(tmp_path))
    made: list[str] = []

    def make(n: int) -> str:
        name = f"slow_handler_{n}_{id(tmp_path)}"
        (tmp_path / f"{name}.py").write_text(textwrap.dedent("""
            import time
            time.sleep(0.2)
            def handle(context):
                return {"ok": True}
        """))
        made.append(name)
        return f"{name}:handle"

    yield make
    for name in made:
        sys.modules.pop(name, None)


def first_jobs_at_once(registry: JobRegistry) -> tuple[list[object], list[InvalidInput]]:
    """THREADS first jobs of the type, released together by a barrier."""
    barrier = threading.Barrier(THREADS)
    found: list[object] = []
    errors: list[InvalidInput] = []

    def first_job() -> None:
        barrier.wait()
        try:
            found.append(registry.handler_for("slow.type"))
        except InvalidInput as error:
            errors.append(error)

    threads = [threading.Thread(target=first_job) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return found, errors


def test_concurrent_first_jobs_of_a_type_all_find_its_handler(slow_module) -> None:
    for trial in range(TRIALS):
        registry = JobRegistry()
        registry.register_lazily("slow.type", slow_module(trial))
        found, errors = first_jobs_at_once(registry)
        assert errors == [], f"trial {trial}: {len(errors)} of {THREADS} first jobs found no handler: {errors[0].message}"
        assert len(found) == THREADS and len(set(map(id, found))) == 1
        assert "slow.type" in registry.job_types


def test_an_unknown_type_is_still_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        JobRegistry().handler_for("no.such")
    assert refused.value.code == "unknown_job_type"
