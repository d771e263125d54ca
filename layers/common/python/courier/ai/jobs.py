"""The `ai.route` job: the API's routing, for calls longer than API Gateway's 30 s."""

from __future__ import annotations

from courier.ai.request import ChatRequest
from courier.jobs.inputs import AiRouteInput
from courier.jobs.registry import JobContext, JobResult


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
    return context.router.route(
        spec.type, prompt=spec.prompt, messages=spec.messages, images=spec.images,
        max_tokens=spec.max_tokens, temperature=spec.temperature, json=spec.json_output,
    )
