"""`make bench-router` must not silently break again (issue 30: its client process died on a
metric without a namespace and nothing noticed). Its smoke form runs here: the fake upstream,
Courier's router and the plain-HTTP floor in processes of their own, both scenarios, the cold
starts, the report; no figure is judged (timings are the benchmark's business, not a test's)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_router_benchmark_runs_end_to_end(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "bench.router.run", "--smoke", "--results", str(tmp_path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads((tmp_path / "router.json").read_text())
    for scenario in ("primary", "fallback"):
        assert set(report["latency"][scenario]) == {"direct", "courier"}
        assert report["latency"][scenario]["courier"]["throughput"] > 0
    assert {"ai_router handler", "bare FastAPI + Mangum"} <= set(report["coldStartMs"])
    assert "| primary | courier |" in (tmp_path / "router.md").read_text()
