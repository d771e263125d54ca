"""The router against a fake model server: routing, fallbacks, retries, deadlines,
cooldowns, reasoning, images, cost and errors."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable

import pytest

from courier.ai.errors import DeadlineExceeded, NoDeployment, UpstreamFailed, UpstreamRejected
from courier.ai.request import ChatRequest, image_data_url
from courier.ai.router import Router
from courier.errors import InvalidInput
from devstack.model_server import ModelServer, Step
from tests.integration.ai.conftest import Sleeps

JPEG = image_data_url(b"\xff\xd8\xff\xe0 fake jpeg")


def ask(router: Router, type: str = "summarize", **kwargs: object) -> dict:
    kwargs.setdefault("prompt", "hello")
    return router.route(ChatRequest.build(type, **kwargs)).to_dict()  # type: ignore[arg-type]


def outcomes(result: dict) -> list[tuple[str, str]]:
    return [(a["deployment"], a["outcome"]) for a in result["attempts"]]


@pytest.mark.parametrize(
    "type, deployment",
    [("reasoning", "DeepSeek-R1"), ("generation", "DeepSeek-V3-0324"), ("summarize", "Phi-4"), ("classify", "Phi-4")],
)
def test_each_task_type_goes_to_its_deployment(router: Router, upstream: ModelServer, type: str, deployment: str) -> None:
    result = ask(router, type, prompt="what is 2+2?")
    assert result["deployment"] == result["model"] == deployment
    assert result["output"].startswith(f"[{deployment}]") or deployment == "DeepSeek-R1"
    assert [c.body["model"] for c in upstream.calls()] == [deployment]
    assert upstream.calls()[0].path == "/openai/v1/chat/completions"
    assert result["id"].startswith("rt_") and result["type"] == type and result["latencyMs"] >= 0


def test_vision_goes_to_the_multimodal_model_one_image_per_request(router: Router, upstream: ModelServer) -> None:
    result = ask(router, "vision", prompt="describe", images=[JPEG])
    assert result["deployment"] == "Phi-4-multimodal-instruct" and "saw 1 image" in result["output"]
    (sent,) = upstream.calls()
    assert sent.body["messages"][0]["content"][1] == {"type": "image_url", "image_url": {"url": JPEG}}
    with pytest.raises(InvalidInput) as error:
        ask(router, "vision", prompt="describe", images=[JPEG, JPEG])
    assert error.value.code == "no_capable_deployment" and "1 image(s) per request" in error.value.message
    with pytest.raises(InvalidInput, match="lacks vision"):
        ask(router, "generation", prompt="describe", images=[JPEG])
    assert len(upstream.calls()) == 1  # refused before any call


def test_retry_after_is_honoured_then_the_same_deployment_answers(router: Router, upstream: ModelServer, sleeps: Sleeps) -> None:
    upstream.script("Phi-4", Step(429, headers={"Retry-After": "2"}), Step(503, headers={"retry-after-ms": "150"}))
    result = ask(router)
    assert sleeps == [2.0, 0.15]
    assert outcomes(result) == [("Phi-4", "retried"), ("Phi-4", "retried"), ("Phi-4", "ok")]
    assert [a.get("httpStatus") for a in result["attempts"]] == [429, 503, 200]
    assert result["attempts"][1]["waitedMs"] == 2000.0


def test_without_retry_after_the_backoff_grows(router: Router, upstream: ModelServer, sleeps: Sleeps) -> None:
    upstream.script("Phi-4", Step(500), Step(502), Step(500))
    result = ask(router)
    assert len(sleeps) == 2 and 0.125 <= sleeps[0] <= 0.25 and 0.25 <= sleeps[1] <= 0.5
    assert outcomes(result)[-1] == ("DeepSeek-V3-0324", "ok") and len(result["attempts"]) == 4


def test_a_long_retry_after_sends_the_request_on_and_cools_the_deployment(router: Router, upstream: ModelServer, sleeps: Sleeps) -> None:
    upstream.script("Phi-4", Step(429, headers={"retry-after": "120"}))
    first = ask(router)
    assert sleeps == [] and outcomes(first) == [("Phi-4", "failed"), ("DeepSeek-V3-0324", "ok")]
    assert 100 < router.cooldowns.remaining("Phi-4") <= 120
    second = ask(router)  # the same warm process: Phi-4 is passed by without a call
    assert outcomes(second) == [("Phi-4", "skipped"), ("DeepSeek-V3-0324", "ok")]
    assert second["attempts"][0]["error"] == "cooling_down"
    assert [c.body["model"] for c in upstream.calls()] == ["Phi-4", "DeepSeek-V3-0324", "DeepSeek-V3-0324"]
    models = {d["name"]: d for d in router.models()["deployments"]}
    assert models["Phi-4"]["coolingDownSeconds"] > 100 and models["DeepSeek-R1"]["coolingDownSeconds"] == 0


def test_a_cooldown_ends_and_when_everything_cools_the_soonest_back_is_tried(make_router: Callable[..., Router], upstream: ModelServer) -> None:
    now = [1000.0]
    router = make_router(clock=lambda: now[0], retry={"attemptsPerDeployment": 1, "cooldownSeconds": 30})
    upstream.script("Phi-4", Step(500))
    upstream.script("DeepSeek-V3-0324", Step(500))
    with pytest.raises(UpstreamFailed):
        ask(router)
    router.cooldowns.cool("DeepSeek-V3-0324", 10)  # V3 now comes back after Phi-4's 30 s? No: later.
    assert outcomes(ask(router)) == [("Phi-4", "ok")]  # both cooling: Phi-4 recovers first
    now[0] += 31
    assert outcomes(ask(router)) == [("Phi-4", "ok")]


def test_the_deadline_bounds_each_attempt_and_the_whole(make_router: Callable[..., Router], upstream: ModelServer) -> None:
    upstream.latency = 2.0
    router = make_router()
    with pytest.raises(DeadlineExceeded) as error:
        router.route(ChatRequest.build("summarize", prompt="slow"), deadline_seconds=0.3)
    assert error.value.status == 504 and error.value.retryable
    attempts = error.value.attempts
    assert attempts and all(a["error"] == "timeout" for a in attempts)
    assert "no answer within 0.3 s" in attempts[0]["message"]


def test_a_retry_that_would_pass_the_deadline_goes_to_the_next_deployment(router: Router, upstream: ModelServer, sleeps: Sleeps) -> None:
    upstream.script("Phi-4", Step(429, headers={"retry-after": "5"}))
    result = router.route(ChatRequest.build("summarize", prompt="x"), deadline_seconds=3).to_dict()
    assert sleeps == [] and outcomes(result) == [("Phi-4", "failed"), ("DeepSeek-V3-0324", "ok")]


def test_a_wrong_key_or_missing_deployment_falls_back_without_retry(router: Router, upstream: ModelServer, sleeps: Sleeps) -> None:
    upstream.script("Phi-4", Step(401, body={"error": {"code": "Unauthorized", "message": "Access denied due to invalid subscription key"}}))
    result = ask(router)
    assert sleeps == [] and outcomes(result) == [("Phi-4", "failed"), ("DeepSeek-V3-0324", "ok")]
    assert result["attempts"][0]["error"] == "Unauthorized" and router.cooldowns.remaining("Phi-4") > 0


@pytest.mark.parametrize(
    "status, code, cools",
    [(404, "DeploymentNotFound", True), (403, None, True), (404, "invalid_image_url", False),
     (403, "invalid_request_error", False), (404, "image_not_found", False)],
)
def test_only_the_deployments_own_faults_cool_it_down(
    router: Router, upstream: ModelServer, sleeps: Sleeps, status: int, code: str | None, cools: bool,
) -> None:
    """One tenant's bad request (an image URL that 404s upstream) must not take a shared
    deployment away from every tenant; a missing deployment or a bad key must."""
    upstream.script("Phi-4", Step(status, body={"error": {"code": code, "message": "nope"}}))
    result = ask(router)
    assert outcomes(result) == [("Phi-4", "failed"), ("DeepSeek-V3-0324", "ok")]
    assert (router.cooldowns.remaining("Phi-4") > 0) is cools


AZURE_FILTERED = "The response was filtered due to the prompt triggering Azure OpenAI's content management policy."


@pytest.mark.parametrize(
    "step, code",
    [
        (Step(400, body={"error": {"code": "content_filter", "message": AZURE_FILTERED}}), "content_filtered"),
        (Step(200, content="", finish_reason="content_filter"), "content_filtered"),
        (Step(400, body={"error": {"code": "context_length_exceeded", "message": "too long"}}), "upstream_rejected"),
        (Step(422, body={"error": {"message": "bad parameter"}}), "upstream_rejected"),
    ],
)
def test_content_filter_and_other_4xx_end_the_request_with_422(router: Router, upstream: ModelServer, sleeps: Sleeps, step: Step, code: str) -> None:
    upstream.script("Phi-4", step)
    with pytest.raises(UpstreamRejected) as error:
        ask(router)
    assert error.value.status == 422 and error.value.code == code and not error.value.retryable
    assert [c.body["model"] for c in upstream.calls()] == ["Phi-4"] and sleeps == []
    assert error.value.to_body()["error"]["attempts"][0]["deployment"] == "Phi-4"


def test_everything_failing_is_a_502_listing_the_attempts(make_router: Callable[..., Router], upstream: ModelServer) -> None:
    router = make_router(retry={"attemptsPerDeployment": 2})
    upstream.script("Phi-4", Step(500), Step(503))
    upstream.script("DeepSeek-V3-0324", Step(200, body="not json at all"))
    with pytest.raises(UpstreamFailed) as error:
        ask(router)
    body = error.value.to_body()["error"]
    assert error.value.status == 502 and body["code"] == "upstream_failed"
    assert [(a["deployment"], a["error"]) for a in body["attempts"]] == [
        ("Phi-4", "http_500"), ("Phi-4", "http_503"), ("DeepSeek-V3-0324", "bad_response")
    ]
    assert "Phi-4: http_500" in body["message"]


def test_connection_errors_are_retried_then_fall_back(make_router: Callable[..., Router], upstream: ModelServer) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{closed.getsockname()[1]}"
    router = make_router(deployments=[{"name": "Phi-4", "baseUrl": dead}])
    result = ask(router)
    assert [a.get("error") for a in result["attempts"]] == ["connection_error"] * 3 + [None]
    assert result["deployment"] == "DeepSeek-V3-0324"


def test_reasoning_split_both_ways_and_no_temperature(router: Router, upstream: ModelServer) -> None:
    upstream.script("DeepSeek-R1", Step(content="<think>2+2: add.</think>\n4"), Step(content="4", reasoning_content="2+2: add."))
    for _ in range(2):
        result = ask(router, "reasoning", prompt="2+2?", temperature=0.7)
        assert (result["output"], result["reasoning"]) == ("4", "2+2: add.")
    assert all("temperature" not in c.body for c in upstream.calls("DeepSeek-R1"))
    assert "reasoning" not in ask(router, "generation", prompt="x", temperature=0.7)
    assert upstream.calls("DeepSeek-V3-0324")[0].body["temperature"] == 0.7


def test_json_answers_are_checked_and_unfenced(router: Router, upstream: ModelServer) -> None:
    upstream.script("Phi-4", Step(content="```json\n{\"ok\": true}\n```"))
    assert json.loads(ask(router, json=True)["output"]) == {"ok": True}
    upstream.script("Phi-4", Step(content="Sure! here it is"))
    result = ask(router, json=True)
    assert outcomes(result) == [("Phi-4", "failed"), ("DeepSeek-V3-0324", "ok")] and result["attempts"][0]["error"] == "invalid_json"
    assert ask(router, "reasoning", json=True, prompt="x")["deployment"] == "DeepSeek-V3-0324"  # R1 has no json mode
    with pytest.raises(InvalidInput, match="lacks json"):
        ask(router, "vision", json=True, prompt="x", images=[JPEG])


def test_cost_comes_from_the_upstream_usage(router: Router, upstream: ModelServer) -> None:
    upstream.script("DeepSeek-R1", Step(body={"choices": [{"message": {"content": "4"}, "finish_reason": "stop"}],
                                               "usage": {"prompt_tokens": 1200, "completion_tokens": 800}}))
    result = ask(router, "reasoning")
    assert result["usage"] == {"inputTokens": 1200, "outputTokens": 800}
    assert result["costUsd"] == round((1200 * 1.35 + 800 * 5.40) / 1e6, 8) == 0.00594
    upstream.script("Phi-4", Step(body={"choices": [{"message": {"content": "12345678"}, "finish_reason": "stop"}]}))
    estimated = ask(router, prompt="x" * 400)
    assert estimated["usage"] == {"inputTokens": 100, "outputTokens": 3, "estimated": True}


def test_routes_without_a_configured_deployment_say_so(upstream: ModelServer) -> None:
    from courier.ai.catalog import load_catalog

    router = Router(lambda: load_catalog({}))
    assert not router.available("vision")
    with pytest.raises(NoDeployment, match="route 'vision'"):
        ask(router, "vision", images=[JPEG])


def test_a_context_too_small_passes_the_deployment_by(router: Router, upstream: ModelServer) -> None:
    result = ask(router, prompt="word " * 16000)  # ~20k tokens: over Phi-4's 16k window
    assert result["deployment"] == "DeepSeek-V3-0324" and outcomes(result) == [("DeepSeek-V3-0324", "ok")]
