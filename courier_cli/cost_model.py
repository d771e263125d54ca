"""A month of Courier's bill from measured figures and list prices, beside an always-on
Fargate worker doing the same video work.

The figures are measured, not guessed, where this repository measures them: a video's
compute from `bench/results/video.json` (`courier video analyze`'s wall and CPU seconds per second
of video, its peak memory), a worker's memory from the catalogue, each model's token price
from the AI catalogue. What a job costs besides its compute (requests, messages, writes) is
counted from what the code does per job and named in `PER_JOB` below; prices are in
`prices.json`, with the date they were checked.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PRICES = Path(__file__).with_name("prices.json")
VIDEO_RESULTS = Path(__file__).resolve().parents[1] / "bench" / "results" / "video.json"
SECONDS_PER_MONTH = 730 * 3600
DAYS_PER_MONTH = 30.4
#: Lambda gives a function one vCPU per 1,769 MB of memory.
MB_PER_VCPU = 1769
#: What one video job does besides its compute, counted from the code: an upload ticket, the
#: enqueue and one status read through the API (the outcome arrives by callback); the job's
#: message and its outcome callback through QStash; the table writes of create, dispatch,
#: claim, about six progress updates, finish and the usage counters, each also written to
#: the tenant index (2 units); the upload, the keyframes and the reads of both in S3.
PER_JOB = {
    "apiRequests": 3, "apiMsPerRequest": 60, "qstashMessages": 2, "writeUnits": 24, "readUnits": 6,
    "s3Puts": 1, "s3GetsPerKeyframe": 1, "logKb": 6,
}
#: A 1080p upload at about 8 Mbit/s, kept the 7 days uploads live; keyframes (~90 KB) the 30
#: days results live.
VIDEO_MB_PER_SECOND, UPLOAD_DAYS, KEYFRAME_KB, RESULT_DAYS = 1.0, 7, 90, 30
#: Lambda's SQS pollers long-poll each queue all month (5 pollers, a 20 s poll each): the
#: fallback queue's standing cost, paid whether it carries anything or not.
SQS_IDLE_REQUESTS_PER_QUEUE = 5 * 3 * 60 * 730
#: EMF metric series a video workload keeps alive (one job type, two transports).
METRIC_SERIES = 12
#: The Fargate worker it is compared with: 1 vCPU, 2 GB, on all month, kept under 70 % busy.
FARGATE_VCPU, FARGATE_GB, FARGATE_BUSY = 1.0, 2.0, 0.7


@dataclass(frozen=True)
class VideoFigures:
    """Per second of video, from the slowest clip the benchmark ran (the bill's upper side)."""

    wall_per_second: float
    cpu_per_second: float
    peak_mb: float
    keyframes: int
    clip: str

    @classmethod
    def measured(cls, path: Path = VIDEO_RESULTS, keyframes: int = 24) -> VideoFigures:
        runs = json.loads(path.read_text())["videos"]
        rows = [(r["results"]["courier"], r["video"]) for r in runs if "courier" in r["results"]]
        if not rows:
            raise ValueError(f"{path} has no full-pipeline figures (make bench-video)")
        worst = max(rows, key=lambda row: row[0]["cpu"] / row[1]["seconds"])
        return cls(
            wall_per_second=worst[0]["wall"] / worst[1]["seconds"], cpu_per_second=worst[0]["cpu"] / worst[1]["seconds"],
            peak_mb=max(r["peak_mb"] for r, _ in rows), keyframes=keyframes, clip=worst[1]["name"],
        )


@dataclass(frozen=True)
class Workload:
    videos_per_day: float
    avg_video_seconds: float
    ai_calls_per_day: float = 0
    tokens_in: int = 1000
    tokens_out: int = 300
    ai_seconds_per_call: float = 2.0


@dataclass(frozen=True)
class Sizing:
    """What the deployment is: its workers' memory, queues, alarms, the model a call uses."""

    video_memory_mb: int
    video_ephemeral_mb: int
    api_memory_mb: int
    router_memory_mb: int
    queues: int
    alarms: int
    model: str
    price_in_per_million: float
    price_out_per_million: float

    @classmethod
    def of_this_deployment(cls, route: str = "generation", workers: int | None = None) -> Sizing:
        """`workers`: how many queued workers to price (default: every one this repository
        declares, a team's own folders included; the README's table prices the shipped ones)."""
        from courier.ai.catalog import load_catalog
        from infra.config import CourierConfig, alarm_count

        config = CourierConfig()
        catalog = load_catalog({})
        model = catalog.deployments[catalog.routes[route][0]]
        video, router = config.worker("video_processor"), config.worker("ai_router")
        workers = len(config.workers) if workers is None else workers
        return cls(
            video_memory_mb=video.memory_mb, video_ephemeral_mb=video.ephemeral_storage_mb, api_memory_mb=config.jobs_api.memory_mb,
            router_memory_mb=router.memory_mb, queues=workers, alarms=alarm_count(workers), model=model.name,
            price_in_per_million=model.price_per_1m_input, price_out_per_million=model.price_per_1m_output,
        )


@dataclass
class Bill:
    lines: dict[str, float] = field(default_factory=dict)
    lambda_seconds_per_video: float = 0.0
    fargate_tasks: int = 1
    fargate: float = 0.0

    @property
    def total(self) -> float:
        return sum(self.lines.values())

    def to_dict(self) -> dict[str, Any]:
        return {"lines": {k: round(v, 2) for k, v in self.lines.items()}, "total": round(self.total, 2),
                "lambdaSecondsPerVideo": round(self.lambda_seconds_per_video, 2), "fargateTasks": self.fargate_tasks,
                "fargate": round(self.fargate, 2)}


def load_prices(path: Path = PRICES) -> dict[str, Any]:
    prices: dict[str, Any] = json.loads(path.read_text())
    return prices


def monthly(work: Workload, video: VideoFigures, sizing: Sizing, prices: dict[str, Any]) -> Bill:
    p, bill = prices, Bill()
    jobs = work.videos_per_day * DAYS_PER_MONTH
    calls = work.ai_calls_per_day * DAYS_PER_MONTH
    vcpus = sizing.video_memory_mb / MB_PER_VCPU
    # Lambda bills wall time at the configured memory: the pipeline runs as fast as its
    # threads allow, and no faster than its CPU seconds spread over Lambda's vCPUs.
    seconds = work.avg_video_seconds * max(video.wall_per_second, video.cpu_per_second / min(vcpus, 2.0))
    bill.lambda_seconds_per_video = seconds
    gb_seconds = jobs * seconds * sizing.video_memory_mb / 1024
    gb_seconds += jobs * PER_JOB["apiRequests"] * PER_JOB["apiMsPerRequest"] / 1000 * sizing.api_memory_mb / 1024
    gb_seconds += calls * work.ai_seconds_per_call * sizing.router_memory_mb / 1024
    ephemeral = jobs * seconds * max(0, sizing.video_ephemeral_mb - 512) / 1024
    invocations = jobs * (1 + PER_JOB["apiRequests"]) + calls
    bill.lines["Lambda (arm64)"] = (gb_seconds * p["lambda"]["arm64GbSecond"] + ephemeral * p["lambda"]["ephemeralGbSecondOver512Mb"]
                                    + invocations / 1e6 * p["lambda"]["requestsPerMillion"])
    bill.lines["QStash"] = jobs * PER_JOB["qstashMessages"] / 1e5 * p["qstash"]["messagesPer100k"]
    bill.lines["SQS (idle fallback)"] = sizing.queues * SQS_IDLE_REQUESTS_PER_QUEUE / 1e6 * p["sqs"]["requestsPerMillion"]
    bill.lines["DynamoDB"] = (jobs * PER_JOB["writeUnits"] / 1e6 * p["dynamodb"]["writeRequestUnitsPerMillion"]
                              + (jobs * PER_JOB["readUnits"] + calls) / 1e6 * p["dynamodb"]["readRequestUnitsPerMillion"])
    stored_gb = (work.videos_per_day * UPLOAD_DAYS * work.avg_video_seconds * VIDEO_MB_PER_SECOND
                 + work.videos_per_day * RESULT_DAYS * video.keyframes * KEYFRAME_KB / 1024) / 1024
    requests = jobs * (PER_JOB["s3Puts"] + video.keyframes) / 1000 * p["s3"]["putPer1000"]
    requests += jobs * (1 + video.keyframes * PER_JOB["s3GetsPerKeyframe"]) / 1000 * p["s3"]["getPer1000"]
    bill.lines["S3"] = stored_gb * p["s3"]["storageGbMonth"] + requests
    bill.lines["API Gateway"] = (jobs * PER_JOB["apiRequests"] + calls) / 1e6 * p["apiGateway"]["httpRequestsPerMillion"]
    logs_gb = (jobs + calls) * PER_JOB["logKb"] / 1024 / 1024
    bill.lines["CloudWatch"] = (logs_gb * p["cloudwatch"]["logsIngestedGb"] + METRIC_SERIES * p["cloudwatch"]["metricMonth"]
                                + sizing.alarms * p["cloudwatch"]["alarmMonth"] + p["cloudwatch"]["dashboardMonth"])
    bill.lines["model tokens"] = calls * (work.tokens_in * sizing.price_in_per_million + work.tokens_out * sizing.price_out_per_million) / 1e6
    busy = jobs * work.avg_video_seconds * video.cpu_per_second / FARGATE_VCPU
    bill.fargate_tasks = max(1, math.ceil(busy / (SECONDS_PER_MONTH * FARGATE_BUSY)))
    task = (FARGATE_VCPU * p["fargate"]["linuxX86VcpuHour"] + FARGATE_GB * p["fargate"]["linuxX86GbHour"]) * 730
    # The model's tokens are paid whoever calls it: the worker it is compared with pays them too.
    bill.fargate = bill.fargate_tasks * task + bill.lines["model tokens"]
    return bill
