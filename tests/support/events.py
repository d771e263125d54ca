"""Lambda events in the exact shapes AWS sends, for invoking real handlers."""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass
class LambdaContext:
    function_name: str = "courier-test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:courier-test"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def _http_context(method: str, path: str, domain: str, api_id: str, route_key: str) -> dict[str, Any]:
    now = time.time()
    return {
        "accountId": "123456789012",
        "apiId": api_id,
        "domainName": domain,
        "domainPrefix": domain.split(".")[0],
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": "203.0.113.7",
            "userAgent": "pytest",
        },
        "requestId": str(uuid.uuid4()),
        "routeKey": route_key,
        "stage": "$default",
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "timeEpoch": int(now * 1000),
    }


def _v2_event(method, path, *, body, headers, query, domain, api_id, route_key, binary=False) -> dict[str, Any]:
    raw_query = "&".join(f"{k}={v}" for k, v in (query or {}).items())
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": {"host": domain, **{k.lower(): v for k, v in (headers or {}).items()}},
        "requestContext": _http_context(method, path, domain, api_id, route_key),
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = dict(query)
    if body is not None:
        raw = body if isinstance(body, bytes) else (body if isinstance(body, str) else json.dumps(body)).encode()
        if binary:
            event["body"], event["isBase64Encoded"] = base64.b64encode(raw).decode(), True
        else:
            event["body"] = raw.decode()
    return event


def http_api_event(method: str, path: str, *, body: Any = None, headers: dict[str, str] | None = None,
                   query: dict[str, str] | None = None, route_key: str | None = None) -> dict[str, Any]:
    """API Gateway HTTP API, payload format 2.0."""
    if isinstance(body, (dict, list)):
        headers = {"content-type": "application/json", **(headers or {})}
    return _v2_event(
        method, path, body=body, headers=headers, query=query,
        domain="abc123defg.execute-api.us-east-1.amazonaws.com", api_id="abc123defg",
        route_key=route_key or f"{method} {path}",
    )


def function_url_event(body: Any, *, headers: dict[str, str] | None = None, method: str = "POST",
                       url_id: str = "r3pmxmplak4kvpx3ev4dp6f2bs0zjzgo", binary: bool = False) -> dict[str, Any]:
    """Lambda Function URL: payload 2.0, domain <url-id>.lambda-url.<region>.on.aws."""
    return _v2_event(
        method, "/", body=body, headers={"content-type": "application/json", **(headers or {})}, query=None,
        domain=f"{url_id}.lambda-url.us-east-1.on.aws", api_id=url_id, route_key="$default", binary=binary,
    )


def sqs_event(*bodies: str, receive_count: int = 1, queue: str = "courier-video") -> dict[str, Any]:
    now = str(int(time.time() * 1000))
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": f"AQEB{uuid.uuid4().hex}",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": str(receive_count),
                    "SentTimestamp": now,
                    "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                    "ApproximateFirstReceiveTimestamp": now,
                },
                "messageAttributes": {},
                "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{queue}",
                "awsRegion": "us-east-1",
            }
            for body in bodies
        ]
    }
