"""Lambda event shapes: which kind an event is, and what a Function URL request carries."""

from __future__ import annotations

import base64
import json
from typing import Any, Literal, Mapping

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


def header(event: Mapping[str, Any], name: str) -> str | None:
    """Header lookup; payload 2.0 lower-cases names, but a hand-made event may not."""
    headers = event.get("headers") or {}
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def method(event: Mapping[str, Any]) -> str:
    return str(event.get("requestContext", {}).get("http", {}).get("method", "")).upper()


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A payload 2.0 response with a JSON body."""
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json", **(headers or {})},
        "body": json.dumps(body, separators=(",", ":")),
    }
