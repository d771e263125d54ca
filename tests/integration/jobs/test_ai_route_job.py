"""ai.route as a queued job: the API's routing, result by status (and callback)."""

from __future__ import annotations

import pytest

from courier.ai.router import reset_shared_router
from devstack.model_server import ModelServer, Step
from tests.integration.jobs.conftest import Stack, eventually
from tests.integration.jobs.test_steps import TRANSPORTS, on
from tests.support.models import catalog_override


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


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_an_offloaded_model_call_leaves_no_lambda_waiting_and_keeps_the_fallbacks(
    stack: Stack, models: ModelServer, monkeypatch: pytest.MonkeyPatch, transport: str,
) -> None:
    """Every deployment says `offload`: each attempt is a durable call (QStash makes it while
    the ai_router Lambda is gone; without QStash, the worker makes it), and the router's rules
    decide as in process: the first deployment's 503 moves on to the next, whose slow answer
    is the result, with its cost and usage."""
    on(stack, transport)
    monkeypatch.setenv("COURIER_AI_CATALOG", catalog_override(models.url, offload=True, retry={"attemptsPerDeployment": 1}))
    reset_shared_router()
    models.script("DeepSeek-V3-0324", Step(503, body={"error": {"code": "overloaded", "message": "busy"}}))
    models.script("Phi-4", Step(content="Three rivers: Nile, Amazon, Yangtze.", delay=1.5))
    accepted = stack.submit({"type": "ai.route", "input": {"type": "generation", "prompt": "Name three rivers."}})
    if transport == "qstash":
        waiting = stack.wait_for(accepted["jobId"], lambda j: j["status"] == "waiting" and j["waitingFor"]["step"] == "model:call:2",
                                 timeout=20)
        assert waiting["waitingFor"]["kind"] == "call"
        eventually(lambda: stack.functions["ai_router"].active == 0, timeout=1.0, what="no worker running while QStash waits")
    job = stack.wait_status(accepted["jobId"], "succeeded", "failed", "dead", timeout=40)
    assert job["status"] == "succeeded", job
    result = job["result"]
    assert result["deployment"] == "Phi-4" and result["output"].startswith("Three rivers")
    assert [(a["deployment"], a["outcome"]) for a in result["attempts"]] == [("DeepSeek-V3-0324", "failed"), ("Phi-4", "ok")]
    assert result["costUsd"] > 0 and result["usage"]["outputTokens"] > 0
    assert [(s["name"], s["kind"], s["status"]) for s in job["steps"]] == [("model:call:1", "call", "done"), ("model:call:2", "call", "done")]
    assert len(models.calls("DeepSeek-V3-0324")) == 1 and len(models.calls("Phi-4")) == 1  # each attempt made once
