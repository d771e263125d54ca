"""The `ai.route` job: the API's routing, for calls longer than API Gateway's 30 s."""

from __future__ import annotations

from courier.ai.request import ChatRequest
from courier.ai.router import shared_router
from courier.jobs.inputs import AiRouteInput
from courier.jobs.registry import JobContext, JobResult

#: Left of the function's timeout for storing the result and answering the queue.
FINISH_MARGIN_SECONDS = 20.0


def request_from_input(spec: AiRouteInput) -> ChatRequest:
    return ChatRequest.build(
        spec.type,
        prompt=spec.prompt,
        messages=spec.messages,
        images=spec.images,
        max_tokens=spec.max_tokens,
        temperature=spec.temperature,
        json=spec.json_output,
    )


def route_job(context: JobContext) -> JobResult:
    """The job handler, with a deadline that leaves the function time to finish."""
    spec = context.input
    assert isinstance(spec, AiRouteInput)
    deadline = max(10.0, context.time_limit_seconds - FINISH_MARGIN_SECONDS)
    return shared_router().route(request_from_input(spec), deadline_seconds=deadline).to_dict()
