"""The FastAPI app factory: every error leaves as a status plus {"error": {code, message}}."""

from __future__ import annotations

import json

from pydantic import BaseModel

from courier.adapters.http_app import create_app, lambda_handler
from courier.errors import CourierError, InvalidInput
from tests.support.events import LambdaContext, http_api_event


class Payload(BaseModel):
    size: int


def make_handler():
    app = create_app(title="t", description="d")

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret detail: token=abc")

    @app.get("/invalid")
    def invalid() -> None:
        raise InvalidInput("size must be positive", code="bad_size")

    @app.get("/busy")
    def busy() -> None:
        raise CourierError("upstream busy", code="busy", status=503, retry_after=2.4)

    @app.post("/payload")
    def payload(body: Payload) -> dict:
        return {"size": body.size}

    return lambda_handler(app)


def call(handler, *args, **kwargs):
    response = handler(http_api_event(*args, **kwargs), LambdaContext())
    return response["statusCode"], json.loads(response["body"]), response.get("headers", {})


def test_unexpected_errors_are_500_without_details() -> None:
    status, body, _ = call(make_handler(), "GET", "/boom")
    assert status == 500
    assert body == {"error": {"code": "internal_error", "message": "internal error"}}


def test_courier_errors_keep_their_status_code_and_retry_after() -> None:
    handler = make_handler()
    assert call(handler, "GET", "/invalid")[:2] == (422, {"error": {"code": "bad_size", "message": "size must be positive"}})
    status, body, headers = call(handler, "GET", "/busy")
    assert status == 503 and body["error"]["code"] == "busy" and headers["retry-after"] == "2"


def test_validation_errors_name_the_field() -> None:
    handler = make_handler()
    status, body, _ = call(handler, "POST", "/payload", body={"size": "big"})
    assert status == 422 and body["error"]["code"] == "invalid_request"
    assert "size" in body["error"]["message"]
    status, body, _ = call(handler, "POST", "/payload", body="{not json", headers={"content-type": "application/json"})
    assert status == 422 and body["error"]["code"] == "invalid_request"
    assert call(handler, "POST", "/payload", body={"size": 3})[:2] == (200, {"size": 3})
