"""ai.route as a queued job: the API's routing, result by status (and callback)."""

from __future__ import annotations

from devstack.model_server import ModelServer, Step
from tests.integration.jobs.conftest import Stack


def test_an_ai_route_job_answers_with_the_routed_result(stack: Stack, models: ModelServer) -> None:
    models.script("DeepSeek-R1", Step(429, headers={"retry-after-ms": "20"}), Step(content="<think>Add them.</think>4"))
    accepted = stack.submit({"type": "ai.route", "input": {"type": "reasoning", "prompt": "2+2?"}})
    job = stack.wait_status(accepted["jobId"], "succeeded", "failed", "dead")
    assert job["status"] == "succeeded", job
    result = job["result"]
    assert (result["deployment"], result["output"], result["reasoning"]) == ("DeepSeek-R1", "4", "Add them.")
    assert [a["outcome"] for a in result["attempts"]] == ["retried", "ok"] and result["costUsd"] > 0


def test_a_refused_prompt_fails_the_job_for_good(stack: Stack, models: ModelServer) -> None:
    models.script("Phi-4", Step(400, body={"error": {"code": "content_filter", "message": "filtered"}}))
    accepted = stack.submit({"type": "ai.route", "input": {"type": "summarize", "prompt": "something bad"}})
    job = stack.wait_status(accepted["jobId"], "succeeded", "failed", "dead")
    assert job["status"] == "failed" and job["error"]["code"] == "content_filtered" and job["attempts"] == 1


def test_ai_route_input_is_checked_when_enqueued(stack: Stack) -> None:
    error = stack.submit({"type": "ai.route", "input": {"type": "summarize"}}, expect=422)
    assert error["error"]["code"] == "invalid_input" and "prompt or messages" in error["error"]["message"]
