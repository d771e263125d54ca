"""http.request, declared beside its input and code; it runs on the AI router's worker."""

from __future__ import annotations

from courier.jobs.entries import JobType, Worker
from courier.outbound.inputs import HttpRequestInput
from courier.outbound.outputs import HttpRequestResult

WORKERS: tuple[Worker, ...] = ()

JOB_TYPES: tuple[JobType, ...] = (
    JobType("http.request", "ai_router", HttpRequestInput, "courier.outbound.request_job:http_request",
            admit="courier.outbound.request_job:admit", result=HttpRequestResult,
            summary="a request to your own app, on a host you allowed, retried on 429/5xx"),
)
