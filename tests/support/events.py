"""Lambda events for tests: the local runtime's builders (devstack.runtime.events), with
test-friendly arguments (JSON bodies as dicts, SQS bodies as strings)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from devstack.runtime import events
from devstack.runtime.events import LambdaContext, QueuedMessage

__all__ = ["LambdaContext", "http_api_event", "function_url_event", "sqs_event"]


def _raw(body: Any) -> bytes | None:
    if body is None:
        return None
    if isinstance(body, bytes):
        return body
    return (body if isinstance(body, str) else json.dumps(body)).encode()


def http_api_event(method: str, path: str, *, body: Any = None, headers: dict[str, str] | None = None,
                   query: dict[str, str] | None = None, route_key: str | None = None) -> dict[str, Any]:
    """API Gateway HTTP API, payload format 2.0."""
    if isinstance(body, (dict, list)):
        headers = {"content-type": "application/json", **(headers or {})}
    return events.http_api_event(
        method, path, query="&".join(f"{k}={v}" for k, v in (query or {}).items()), headers=headers,
        body=_raw(body), route_key=route_key, api_id="abc123defg", source_ip="203.0.113.7",
    )


def function_url_event(body: Any, *, headers: dict[str, str] | None = None, method: str = "POST",
                       url_id: str = "r3pmxmplak4kvpx3ev4dp6f2bs0zjzgo", binary: bool = False) -> dict[str, Any]:
    """Lambda Function URL: payload 2.0, domain <url-id>.lambda-url.<region>.on.aws."""
    return events.function_url_event(
        method, "/", headers={"content-type": "application/json", **(headers or {})}, body=_raw(body),
        url_id=url_id, source_ip="203.0.113.7", base64_body=binary,
    )


def sqs_event(*bodies: str, receive_count: int = 1, queue: str = "courier-video") -> dict[str, Any]:
    messages = [
        QueuedMessage(str(uuid.uuid4()), f"AQEB{uuid.uuid4().hex}", body, {"ApproximateReceiveCount": str(receive_count), "SentTimestamp": "1"})
        for body in bodies
    ]
    return events.sqs_event(messages, f"arn:aws:sqs:us-east-1:123456789012:{queue}")
