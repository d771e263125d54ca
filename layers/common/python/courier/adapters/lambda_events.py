"""Lambda event shapes: which kind an event is, and a Function URL request's exact bytes.

Headers and the method come from Powertools' LambdaFunctionUrlEvent (case-insensitive
headers); the body is decoded here because a signature covers bytes, and Powertools'
`decoded_body` is text."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any, Literal

EventKind = Literal["sqs", "function_url", "http_api", "unknown"]


def event_kind(event: Mapping[str, Any]) -> EventKind:
    """Function URL and HTTP API events share payload format 2.0; the domain tells them apart."""
    records = event.get("Records")
    if isinstance(records, list) and records and records[0].get("eventSource") == "aws:sqs":
        return "sqs"
    context = event.get("requestContext") or {}
    if "http" in context:
        return "function_url" if ".lambda-url." in str(context.get("domainName", "")) else "http_api"
    return "unknown"


def raw_body(event: Mapping[str, Any]) -> bytes:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return base64.b64decode(body)
    return body.encode("utf-8")


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A payload 2.0 response with a JSON body."""
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json", **(headers or {})},
        "body": json.dumps(body, separators=(",", ":")),
    }
