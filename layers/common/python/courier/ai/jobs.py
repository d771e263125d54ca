"""The `ai.route` job: the API's routing, for calls longer than API Gateway's 30 s."""

from __future__ import annotations

from courier.ai.inputs import AiRouteInput
from courier.jobs import JobContext, JobResult


def route_job(context: JobContext[AiRouteInput]) -> JobResult:
    """In process, within a deadline that leaves the function time to finish; or, when every
    deployment of the route may be offloaded, each attempt a durable call that QStash makes
    while the Lambda is gone (the fallbacks, the cost and the usage the same)."""
    request = context.input.request()
    if context.steps is not None and context.router.offloads(request.type):
        return context.router.send_by_steps(request, context.steps)
    return context.router.send(request)
