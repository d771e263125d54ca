"""Lambda events in the exact shapes AWS sends: API Gateway HTTP API and Function URL
(payload format 2.0), SQS batches; and a Lambda context object."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

REGION = "us-east-1"
ACCOUNT = "123456789012"


@dataclass
class LambdaContext:
    function_name: str = "courier-local"
    memory_limit_in_mb: int = 512
    timeout_seconds: float = 30.0
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000))


def _v2_event(
    method: str, path: str, *, query: str, headers: Mapping[str, str], body: bytes | None,
    domain: str, api_id: str, route_key: str, source_ip: str, base64_body: bool = False,
) -> dict[str, Any]:
    now = time.time()
    lowered: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers.items():
        if name.lower() == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
        elif name.lower() in lowered:  # repeated headers arrive comma-joined
            lowered[name.lower()] += "," + value
        else:
            lowered[name.lower()] = value
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": lowered,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": api_id,
            "domainName": domain,
            "domainPrefix": domain.split(".")[0],
            "http": {
                "method": method.upper(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        params: dict[str, str] = {}
        for pair in query.split("&"):
            name, _, value = pair.partition("=")
            params[name] = params[name] + "," + value if name in params else value
        event["queryStringParameters"] = params
    if body:
        try:
            if base64_body:  # API Gateway base64-encodes bodies of binary media types
                raise UnicodeDecodeError("utf-8", body, 0, 0, "binary media type")
            event["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    return event


def http_api_event(
    method: str, path: str, *, query: str = "", headers: Mapping[str, str] | None = None, body: bytes | None = None,
    route_key: str | None = None, api_id: str = "localapi01", source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    return _v2_event(
        method, path, query=query, headers=headers or {}, body=body,
        domain=f"{api_id}.execute-api.{REGION}.amazonaws.com", api_id=api_id,
        route_key=route_key or f"{method.upper()} {path}", source_ip=source_ip,
    )


def function_url_event(
    method: str, path: str = "/", *, query: str = "", headers: Mapping[str, str] | None = None,
    body: bytes | None = None, url_id: str = "localfunctionurl0000000000000000", source_ip: str = "127.0.0.1",
    base64_body: bool = False,
) -> dict[str, Any]:
    return _v2_event(
        method, path, query=query, headers=headers or {}, body=body,
        domain=f"{url_id}.lambda-url.{REGION}.on.aws", api_id=url_id, route_key="$default", source_ip=source_ip,
        base64_body=base64_body,
    )


@dataclass
class QueuedMessage:
    message_id: str
    receipt_handle: str
    body: str
    attributes: dict[str, str]
    md5_of_body: str = ""


def sqs_event(messages: Iterable[QueuedMessage], queue_arn: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": m.message_id,
                "receiptHandle": m.receipt_handle,
                "body": m.body,
                "attributes": m.attributes,
                "messageAttributes": {},
                "md5OfBody": m.md5_of_body,
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
            for m in messages
        ]
    }
