"""`courier cost`: the bill's arithmetic, its measured inputs, and the README's table."""

from __future__ import annotations

import argparse
import json
import math
import re
import subprocess
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from courier_cli import cost
from courier_cli.cost_model import DAYS_PER_MONTH, MB_PER_VCPU, VIDEO_RESULTS, Sizing, VideoFigures, Workload, load_prices, monthly
from courier_cli.main import main

ROOT = Path(__file__).resolve().parents[2]
PRICES = load_prices()
SIZING = Sizing(video_memory_mb=2 * MB_PER_VCPU, video_ephemeral_mb=512, api_memory_mb=512, router_memory_mb=512, queues=3, alarms=18,
                model="m", price_in_per_million=1.0, price_out_per_million=4.0)
VIDEO = VideoFigures(wall_per_second=0.1, cpu_per_second=0.3, peak_mb=200, keyframes=24, clip="c")


def test_prices_are_dated_and_positive() -> None:
    assert date.fromisoformat(PRICES["checked"]) <= date.today()
    numbers = [v for section in PRICES.values() if isinstance(section, dict) for k, v in section.items() if k != "source"]
    assert numbers and all(isinstance(v, float | int) and v > 0 for v in numbers)
    assert all(section["source"].startswith("https://") for section in PRICES.values() if isinstance(section, dict))


def test_the_video_figures_are_the_benchmarks_slowest_clip() -> None:
    runs = json.loads(VIDEO_RESULTS.read_text())["videos"]
    worst = max(runs, key=lambda r: r["results"]["courier"]["cpu"] / r["video"]["seconds"])
    figures = VideoFigures.measured()
    assert figures.clip == worst["video"]["name"]
    assert figures.cpu_per_second == pytest.approx(worst["results"]["courier"]["cpu"] / worst["video"]["seconds"])
    assert figures.peak_mb == max(r["results"]["courier"]["peak_mb"] for r in runs)


def test_lambda_bills_the_cpu_spread_over_its_vcpus_at_the_configured_memory() -> None:
    bill = monthly(Workload(100, 60), VIDEO, SIZING, PRICES)
    assert bill.lambda_seconds_per_video == pytest.approx(60 * 0.3 / 2)  # CPU-bound: 18 CPU s over 2 vCPUs
    jobs = 100 * DAYS_PER_MONTH
    video_gb_s = jobs * 9.0 * 2 * MB_PER_VCPU / 1024
    api_gb_s = jobs * 3 * 0.06 * 0.5
    expected = (video_gb_s + api_gb_s) * PRICES["lambda"]["arm64GbSecond"] + jobs * 4 / 1e6 * PRICES["lambda"]["requestsPerMillion"]
    assert bill.lines["Lambda (arm64)"] == pytest.approx(expected)
    slow_io = monthly(Workload(100, 60), replace(VIDEO, wall_per_second=0.5), SIZING, PRICES)
    assert slow_io.lambda_seconds_per_video == pytest.approx(30)  # wall-bound: wall time is what is billed


def test_what_grows_with_volume_and_what_stays() -> None:
    small, large = (monthly(Workload(n, 60), VIDEO, SIZING, PRICES) for n in (10, 1000))
    assert large.lines["Lambda (arm64)"] == pytest.approx(100 * small.lines["Lambda (arm64)"])
    assert large.lines["QStash"] == pytest.approx(100 * small.lines["QStash"]) == 1000 * DAYS_PER_MONTH * 2 / 1e5
    assert large.lines["SQS (idle fallback)"] == small.lines["SQS (idle fallback)"] > 0  # the pollers' standing cost
    fixed = 12 * PRICES["cloudwatch"]["metricMonth"] + 18 * PRICES["cloudwatch"]["alarmMonth"] + PRICES["cloudwatch"]["dashboardMonth"]
    assert small.lines["CloudWatch"] == pytest.approx(fixed, abs=0.01)
    assert small.lines["model tokens"] == 0 and small.total < large.total


def test_model_tokens_and_fargate_tasks() -> None:
    bill = monthly(Workload(0, 60, ai_calls_per_day=1000, tokens_in=2000, tokens_out=500), VIDEO, SIZING, PRICES)
    assert bill.lines["model tokens"] == pytest.approx(1000 * DAYS_PER_MONTH * (2000 * 1.0 + 500 * 4.0) / 1e6)
    task = (PRICES["fargate"]["linuxX86VcpuHour"] + 2 * PRICES["fargate"]["linuxX86GbHour"]) * 730
    assert bill.fargate_tasks == 1 and bill.fargate == pytest.approx(task + bill.lines["model tokens"])  # tokens are paid either way
    busy = monthly(Workload(20_000, 600), VIDEO, SIZING, PRICES)  # 3.6 M CPU s a day: more than one worker holds
    assert busy.fargate_tasks == math.ceil(20_000 * DAYS_PER_MONTH * 600 * 0.3 / (730 * 3600 * 0.7)) > 1


def test_this_deployments_sizing_is_the_catalogues() -> None:
    from courier.jobs.catalog import load

    WORKERS = load().workers
    sizing = Sizing.of_this_deployment()
    video = next(w for w in WORKERS if w.name == "video_processor")
    assert (sizing.video_memory_mb, sizing.queues, sizing.alarms) == (video.memory_mb, len(WORKERS), 6 * len(WORKERS))
    assert sizing.price_in_per_million > 0 and sizing.model == "DeepSeek-V3-0324"


def test_the_command_prints_the_bill_and_the_readme_has_its_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cost", "--videos-per-day", "200", "--avg-video-seconds", "90", "--ai-calls-per-day", "500", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["workload"] == {"videosPerDay": 200, "avgVideoSeconds": 90, "aiCallsPerDay": 500}
    assert data["bill"]["total"] == pytest.approx(sum(data["bill"]["lines"].values()), abs=0.05)
    assert [s["videosPerDay"] for s in data["scales"]] == [10, 50, 200, 1000]
    assert main(["cost", "--videos-per-day", "50"]) == 0
    assert "total" in capsys.readouterr().out
    defaults = argparse.Namespace(videos_per_day=50, avg_video_seconds=60, ai_calls_per_day=0, tokens_in=1000, tokens_out=300, route="generation")
    from courier.jobs.catalog import load

    # The README prices the shipped workers; a worker folder a team adds changes its own bill only.
    table = cost.markdown(cost.report(defaults, workers=len(load().shipped_workers)))
    readme = (ROOT / "README.md").read_text()
    assert table in readme, "README's cost table is stale: paste `courier cost --markdown` into it"
    assert re.search(rf"prices checked {PRICES['checked']}", readme)


@pytest.mark.parametrize("option, value", [("--videos-per-day", "-5"), ("--avg-video-seconds", "0"), ("--ai-calls-per-day", "-1"),
                                           ("--tokens-in", "-3"), ("--videos-per-day", "nan"), ("--videos-per-day", "lots")])
def test_a_negative_or_meaningless_workload_is_a_usage_error(option: str, value: str) -> None:
    """As a user runs it: a subprocess, its exit status and what it says."""
    ran = subprocess.run([sys.executable, "-m", "courier_cli.main", "cost", option, value], capture_output=True, text=True, cwd=ROOT)
    assert ran.returncode == 2 and option in ran.stderr and "$" not in ran.stdout, (ran.stdout, ran.stderr)
