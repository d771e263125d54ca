"""The `ai.route` job: the API's routing, for calls longer than API Gateway's 30 s."""

from __future__ import annotations

from courier.ai.inputs import AiRouteInput
from courier.jobs import JobContext, JobResult


def route_job(context: JobContext[AiRouteInput]) -> JobResult:
    """The job handler, with a deadline that leaves the function time to finish."""
    return context.router.send(context.input.request())
