"""The job-author API: one module a job type's code imports, typed by its input model."""

from __future__ import annotations

import ast
from pathlib import Path

import courier.jobs as api
from courier_cli import scaffold

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "layers" / "common" / "python" / "courier"
#: What a handler's author needs, and nothing of the internals.
EXPECTED = {"Child", "ChildOutcome", "CourierError", "FanOut", "InvalidInput", "JobContext", "JobHandler", "JobInput", "JobOutput",
            "JobResult", "JobType", "NetworkPolicy", "NonRetryable", "RetryAfter", "Worker", "utc_now"}


def courier_imports(source: str) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("courier"):
            modules.add(node.module or "")
        elif isinstance(node, ast.Import):
            modules.update(a.name for a in node.names if a.name.startswith("courier"))
    return modules


def test_it_exports_what_a_handler_needs() -> None:
    assert set(api.__all__) == EXPECTED
    assert all(hasattr(api, name) for name in api.__all__)


def test_the_worked_example_and_the_scaffold_use_only_it() -> None:
    folder = ROOT / "functions" / "web_digest"
    for path in folder.glob("*.py"):
        if path.name not in ("handler.py", "__init__.py"):  # the handler is the runtime's, not the author's
            assert courier_imports(path.read_text()) == {"courier.jobs"}, path.name
    for template in (scaffold.WORKER, scaffold.INPUTS, scaffold.OUTPUTS, scaffold.JOBS):
        filled = template
        for field, value in {"name": "reports", "model": "ReportsInput", "result": "ReportsResult", "type": "reports.build",
                             "memory": "1", "timeout": "1", "calls_models": "1"}.items():
            filled = filled.replace("{{" + field + "}}", value)
        assert courier_imports(filled) == {"courier.jobs"}


def test_handlers_are_typed_by_their_input_and_assert_nothing() -> None:
    sources = [*LIBRARY.rglob("*.py"), *(ROOT / "functions").rglob("*.py")]
    asserting = [str(p.relative_to(ROOT)) for p in sources if "assert isinstance(spec" in p.read_text()]
    assert asserting == []
    assert "assert isinstance" not in scaffold.JOBS and "JobContext[{{model}}]" in scaffold.JOBS


def test_what_happens_next_is_said_by_the_error() -> None:
    assert api.NonRetryable("bad").retryable is False
    later = api.RetryAfter(30)
    assert later.retryable is True and later.retry_after == 30 and later.retry_after_header() == {"Retry-After": "30"}
