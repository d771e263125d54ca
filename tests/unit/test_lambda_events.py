"""Telling Lambda's event shapes apart, and reading Function URL requests."""

from __future__ import annotations

from courier.adapters.lambda_events import event_kind, json_response, raw_body
from tests.support.events import function_url_event, http_api_event, sqs_event


def test_kinds() -> None:
    assert event_kind(http_api_event("GET", "/healthz")) == "http_api"
    assert event_kind(function_url_event({"a": 1})) == "function_url"
    assert event_kind(sqs_event("{}")) == "sqs"
    assert event_kind({"source": "aws.events"}) == "unknown"
    assert event_kind({"Records": [{"eventSource": "aws:s3"}]}) == "unknown"


def test_base64_body_decoded() -> None:
    event = function_url_event(b"\x00\x01binary", binary=True)
    assert raw_body(event) == b"\x00\x01binary"
    assert raw_body(function_url_event("plain")) == b"plain"
    assert raw_body({"requestContext": {"http": {}}}) == b""


def test_json_response_shape() -> None:
    response = json_response(489, {"error": {"code": "c", "message": "m"}}, {"Upstash-NonRetryable-Error": "true"})
    assert response["statusCode"] == 489
    assert response["headers"]["content-type"] == "application/json"
    assert response["body"] == '{"error":{"code":"c","message":"m"}}'
