"""The AI router's worker and ai.route, declared beside their input and code. The worker
also runs the built-in and outbound types (they name it)."""

from __future__ import annotations

from courier.ai.inputs import AiRouteInput
from courier.ai.views import RouteAnswer
from courier.jobs.entries import JobType, Worker

WORKERS: tuple[Worker, ...] = (
    Worker(name="ai_router", memory_mb=512, timeout_seconds=300, max_concurrency=20, calls_models=True),
)

JOB_TYPES: tuple[JobType, ...] = (
    JobType("ai.route", "ai_router", AiRouteInput, "courier.ai.jobs:route_job", result=RouteAnswer,
            summary="a prompt answered by the model its task type routes to"),
)
