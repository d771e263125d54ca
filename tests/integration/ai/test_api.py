"""POST /v1/route and GET /v1/models through the real handler (API Gateway v2 events,
Mangum, FastAPI), with API keys in (local) DynamoDB and model keys in Secrets Manager."""

from __future__ import annotations

import json

import boto3
import pytest

from courier.auth.api_keys import ApiKeyStore
from devstack.aws_resources import create_resources
from devstack.model_server import ModelServer, Step
from infra.config import CourierConfig
from tests.integration.test_handlers import body, invoke
from tests.support.events import http_api_event


@pytest.fixture
def api_key(aws: str, upstream: ModelServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """A deployed ai_router's environment: table, catalog at the fake upstream, model keys
    in a Secrets Manager secret that the upstream checks."""
    resources = create_resources(CourierConfig(stage="ai"))
    secret = boto3.client("secretsmanager").create_secret(Name="courier/ai/model-keys", SecretString=json.dumps({"azure-foundry": "az-key-1"}))
    monkeypatch.setenv("TABLE_NAME", resources.table_name)
    monkeypatch.setenv("MODEL_KEYS_SECRET_REF", f"secretsmanager:{secret['ARN']}")
    monkeypatch.setenv("AZURE_AI_FOUNDRY_ENDPOINT", upstream.url)
    monkeypatch.setenv("COURIER_AI_CATALOG", '{"retry": {"baseDelaySeconds": 0.01}}')
    upstream.api_key = "az-key-1"
    return ApiKeyStore(resources.table_name).create("acme", "test")[1]


def call(method: str, path: str, key: str | None, payload: dict | None = None) -> tuple[int, dict]:
    headers = {"authorization": f"Bearer {key}"} if key else {}
    response = invoke("ai_router", http_api_event(method, path, body=payload, headers=headers))
    return response["statusCode"], body(response)


@pytest.fixture(autouse=True)
def no_upstream_key(upstream: ModelServer):
    yield
    upstream.api_key = None


def test_route_answers_with_the_deployment_usage_cost_and_attempts(api_key: str, upstream: ModelServer) -> None:
    status, result = call("POST", "/v1/route", api_key, {"type": "generation", "prompt": "Write a tagline", "maxTokens": 64, "temperature": 0.2})
    assert status == 200, result
    assert set(result) == {"id", "type", "route", "deployment", "model", "output", "usage", "costUsd", "latencyMs", "attempts"}
    assert result["deployment"] == "DeepSeek-V3-0324" and result["output"] == "[DeepSeek-V3-0324] Write a tagline"
    assert result["costUsd"] == round((result["usage"]["inputTokens"] * 1.14 + result["usage"]["outputTokens"] * 4.56) / 1e6, 8) > 0
    (sent,) = upstream.calls()
    assert sent.headers["api-key"] == "az-key-1"  # read from Secrets Manager, sent as Azure wants
    assert sent.body["max_tokens"] == 64 and sent.body["temperature"] == 0.2


def test_route_wants_an_api_key_and_models_too(api_key: str) -> None:
    for method, path, payload in (("POST", "/v1/route", {"type": "x", "prompt": "hi"}), ("GET", "/v1/models", None)):
        for key in (None, "ck_wrong"):
            status, error = call(method, path, key, payload)
            assert status == 401 and error["error"]["code"] == "unauthorized"


def test_models_lists_deployments_and_routes(api_key: str) -> None:
    status, models = call("GET", "/v1/models", api_key)
    assert status == 200
    assert {d["name"] for d in models["deployments"]} == {"DeepSeek-R1", "DeepSeek-V3-0324", "Phi-4-multimodal-instruct", "Phi-4"}
    assert all(d["configured"] for d in models["deployments"]) and models["routes"]["vision"] == ["Phi-4-multimodal-instruct"]
    assert "az-key-1" not in json.dumps(models)


@pytest.mark.parametrize(
    "payload, code",
    [({"type": "x"}, "invalid_request"), ({"type": "x", "prompt": "a", "messages": []}, "invalid_request"),
     ({"type": "x", "prompt": "a", "bogus": 1}, "invalid_request"),
     ({"type": "generation", "prompt": "a", "images": ["data:image/png;base64,iVBORw0KGgo="]}, "no_capable_deployment"),
     ({"type": "vision", "prompt": "a", "images": ["ftp://x"]}, "invalid_image")],
)
def test_bad_requests_are_422_with_a_reason(api_key: str, upstream: ModelServer, payload: dict, code: str) -> None:
    status, error = call("POST", "/v1/route", api_key, payload)
    assert status == 422 and error["error"]["code"] == code and error["error"]["message"]
    assert upstream.calls() == []


def test_content_filter_is_422_and_total_failure_is_502_with_attempts(api_key: str, upstream: ModelServer) -> None:
    upstream.script("Phi-4", Step(400, body={"error": {"code": "content_filter", "message": "filtered: violence"}}))
    status, error = call("POST", "/v1/route", api_key, {"type": "summarize", "prompt": "x"})
    assert status == 422 and error["error"]["code"] == "content_filtered" and "filtered: violence" in error["error"]["message"]
    upstream.script("Phi-4", *[Step(503)] * 3)
    upstream.script("DeepSeek-V3-0324", *[Step(500)] * 3)
    status, error = call("POST", "/v1/route", api_key, {"type": "summarize", "prompt": "x"})
    assert status == 502 and error["error"]["code"] == "upstream_failed"
    assert [a["deployment"] for a in error["error"]["attempts"]] == ["Phi-4"] * 3 + ["DeepSeek-V3-0324"] * 3


def test_a_route_with_no_model_configured_is_503(api_key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_AI_FOUNDRY_ENDPOINT")
    status, error = call("POST", "/v1/route", api_key, {"type": "vision", "prompt": "x", "images": ["https://example.com/a.png"]})
    assert status == 503 and error["error"]["code"] == "no_deployment"


@pytest.mark.parametrize("stray", [5, None, ["a"], {"x": 1}], ids=["number", "null", "list", "object"])
def test_an_image_part_whose_text_is_not_a_string_is_answered_not_a_500(api_key: str, upstream: ModelServer, stray: object) -> None:
    """A stray `text` on an image part (a number, null, a list) is not text: the request is
    routed on its real text and image, never a 500."""
    part = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}, "text": stray}
    messages = [{"role": "user", "content": [{"type": "text", "text": "what is this?"}, part]}]
    status, result = call("POST", "/v1/route", api_key, {"type": "vision", "messages": messages})
    assert status == 200, result
    assert result["deployment"] == "Phi-4-multimodal-instruct"
