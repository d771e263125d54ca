"""Router benchmark: Courier's router and LiteLLM's Router side by side in one run,
against the same fake OpenAI-compatible upstream on loopback with a fixed latency.

    python -m bench.router.run [--requests 500] [--rounds 3] [--latency-ms 10]

- added latency: what a router adds to the same calls made directly with http.client
  (`direct`): p50 (and p99) of its request times minus `direct`'s p50 (p99), over
  sequential requests;
- throughput: requests per second from 16 threads;
- scenarios: `primary` (the first deployment answers) and `fallback` (it answers 503,
  the second answers; no retries, no cooldown in either router);
- cold start: import and init in a fresh process, of the ai_router Lambda handler
  against a bare FastAPI + Mangum app with the same API shape, and of each router
  library with its deployments configured.

Each method runs in its own process, in interleaved rounds; tables give medians. The
router's process is a function's as far as metrics go (AWS_LAMBDA_FUNCTION_NAME set, no
Powertools variable): its spend metric is written per request, as on Lambda.
Writes bench/results/router.json and bench/results/router.md.

    python -m bench.router.run --smoke --results DIR

is `make test`'s form: a few requests, Courier and the floor only (LiteLLM is the
benchmark's own dependency), one cold start each, the report written to DIR; its figures
mean nothing, it only proves the benchmark still runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

from bench.measure import free_port, percentile
from devstack.supervisor import port_open, wait_until

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"
METHODS = ("direct", "courier", "litellm")
SCENARIOS = ("primary", "fallback")
CONCURRENCY = 16

COLD_STARTS = {
    "bare FastAPI + Mangum": ("bench/router", "import bare_app"),
    # Like for like: the handlers defer garbage collection while they load (courier/coldstart.py).
    "bare, collection deferred as the handlers do": (
        "bench/router", "import gc; gc.disable(); import bare_app; gc.freeze(); gc.enable()",
    ),
    "ai_router handler": ("functions/ai_router:layers/common/python", "import handler"),
    "courier.ai.router + Router": (
        "layers/common/python",
        "from courier.ai.router import Router; from courier.ai.catalog import load_catalog; Router(load_catalog)",
    ),
    "litellm + Router": (
        "",
        "import litellm; litellm.Router(model_list=[{'model_name': 'm', 'litellm_params': {'model': 'openai/m', "
        "'api_base': 'http://127.0.0.1:9/v1', 'api_key': 'k'}}])",
    ),
}


def start_upstream(latency_ms: float) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack.model_server", "--port", str(port), "--latency-ms", str(latency_ms), "--fail-model", "failing-model"],
        cwd=ROOT,
    )
    try:
        wait_until(lambda: port_open(port), "the fake upstream", timeout=20)
    except RuntimeError:
        process.kill()
        raise
    return process, f"http://127.0.0.1:{port}"


def run_client(method: str, url: str, scenario: str, requests: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POWERTOOLS_")}
    env.update(PYTHONPATH=f"{ROOT}:{ROOT / 'layers/common/python'}", LITELLM_LOCAL_MODEL_COST_MAP="True",
               AWS_LAMBDA_FUNCTION_NAME="bench-router")
    out = subprocess.run(
        [sys.executable, "-m", "bench.router.client", method, url, scenario, str(requests), str(CONCURRENCY)],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def cold_start(path: str, code: str) -> float:
    env = {**os.environ, "PYTHONPATH": ":".join(str(ROOT / p) for p in path.split(":") if p), "LITELLM_LOCAL_MODEL_COST_MAP": "True",
           "POWERTOOLS_SERVICE_NAME": "ai_router", "AWS_DEFAULT_REGION": "us-east-1", "TABLE_NAME": "jobs"}
    timed = f"import time; t = time.perf_counter()\n{code}\nprint(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", timed], cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout
    return float(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=10.0)
    parser.add_argument("--cold-runs", type=int, default=15)
    parser.add_argument("--smoke", action="store_true", help="make test's form: a few requests, no LiteLLM")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()
    methods = METHODS
    cold_starts = COLD_STARTS
    if args.smoke:
        args.requests, args.rounds, args.cold_runs = 10, 1, 1
        methods = tuple(m for m in METHODS if m != "litellm")
        cold_starts = {name: what for name, what in COLD_STARTS.items() if "litellm" not in name}
    upstream, url = start_upstream(args.latency_ms)
    runs: dict[str, dict[str, list[dict]]] = {s: {m: [] for m in methods} for s in SCENARIOS}
    try:
        for round_ in range(args.rounds):
            for scenario in SCENARIOS:
                for method in methods:
                    result = run_client(method, url, scenario, args.requests)
                    times = [t * 1000 for t in result["latencies"]]
                    runs[scenario][method].append(
                        {"p50": percentile(times, 0.5), "p99": percentile(times, 0.99), "throughput": result["throughput"]}
                    )
                    print(f"round {round_ + 1} {scenario:8} {method:8} p50 {runs[scenario][method][-1]['p50']:.3f} ms", file=sys.stderr)
    finally:
        upstream.terminate()
        upstream.wait(10)

    cold: dict[str, list[float]] = {name: [] for name in cold_starts}
    for path, code in cold_starts.values():
        cold_start(path, code)  # the first import compiles bytecode; not a cold start
    for _ in range(args.cold_runs):
        for name, (path, code) in cold_starts.items():
            cold[name].append(cold_start(path, code) * 1000)

    summary = {}
    for scenario in SCENARIOS:
        medians = {
            method: {key: statistics.median(r[key] for r in runs[scenario][method]) for key in ("p50", "p99", "throughput")}
            for method in methods
        }
        for _method, m in medians.items():
            m["addedP50"] = m["p50"] - medians["direct"]["p50"]
            m["addedP99"] = m["p99"] - medians["direct"]["p99"]
        summary[scenario] = medians
    cold_ms = {name: statistics.median(values) for name, values in cold.items()}
    report = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "settings": {"requests": args.requests, "rounds": args.rounds, "upstreamLatencyMs": args.latency_ms, "concurrency": CONCURRENCY,
                     "litellm": _version("litellm") if "litellm" in methods else None},
        "latency": summary,
        "coldStartMs": cold_ms,
        "runs": runs,
        "coldStartRuns": cold,
    }
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "router.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.results / "router.md").write_text(markdown(report))
    print(markdown(report))


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def markdown(report: dict) -> str:
    s, lat, cold = report["settings"], report["latency"], report["coldStartMs"]
    peer = s["litellm"] is not None  # not in the smoke form
    lines = [
        "# Router benchmark",
        "",
        f"Fake OpenAI-compatible upstream on loopback with {s['upstreamLatencyMs']:g} ms fixed latency, in its own process; "
        f"each method in its own process; {s['requests']} sequential requests for latency, {s['requests'] * 2} from "
        f"{s['concurrency']} threads for throughput; medians of {s['rounds']} interleaved rounds. LiteLLM {s['litellm']}. "
        f"Machine: {report['machine']['cpus']} CPUs, Python {report['machine']['python']}. Courier's process is a "
        "function's for its metrics: it writes its spend metric (EMF) on every request, as on Lambda.",
        "",
        "Added latency = what a router adds to the same upstream calls made with plain http.client (`direct`): its p50 "
        "(p99) request time minus direct's. In `fallback` the first deployment answers 503 and the second answers, so "
        "direct makes both calls.",
        "",
        "| scenario | method | p50 (ms) | p99 (ms) | added p50 (ms) | added p99 (ms) | throughput (req/s) | added p50 vs LiteLLM |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for scenario, methods in lat.items():
        for method, m in methods.items():
            ratio = f"{m['addedP50'] / methods['litellm']['addedP50']:.3f} ×" if method != "direct" and peer else ""
            lines.append(f"| {scenario} | {method} | {m['p50']:.2f} | {m['p99']:.2f} | {m['addedP50']:.3f} | {m['addedP99']:.3f} | "
                         f"{m['throughput']:.0f} | {ratio} |")
    lines += ["", "Cold start (import + init in a fresh process, median):", "", "| what | ms | ratio |", "|---|---:|---:|"]
    bare = cold["bare FastAPI + Mangum"]
    lib = cold.get("litellm + Router")
    for name, ms in cold.items():
        base, label = (bare, "vs bare") if "bare" in name or name == "ai_router handler" or lib is None else (lib, "vs LiteLLM")
        lines.append(f"| {name} | {ms:.0f} | {ms / base:.2f} × {label} |")
    primary = lat["primary"]
    versus = f"; ≤ ¼ of LiteLLM's — {primary['courier']['addedP50'] / primary['litellm']['addedP50']:.3f} ×" if peer else ""
    lines += [
        "",
        f"Targets: p50 added ≤ 0.4 ms — {primary['courier']['addedP50']:.3f} ms{versus}; handler cold start ≤ 1.2 × bare — "
        f"{cold['ai_router handler'] / bare:.2f} × (against a bare app that defers collection too: "
        f"{cold['ai_router handler'] / cold['bare, collection deferred as the handlers do']:.2f} ×).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
