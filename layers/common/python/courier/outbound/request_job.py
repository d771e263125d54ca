"""http.request: deliver one request to the tenant's app and keep what it answered.

The URL's host must be on the tenant's allowlist (checked at enqueue and again here: the
list may have changed), and the request goes through the network policy like every other
outbound call. 2xx succeeds with the status, the headers that matter and a bounded body;
429, 408 and 5xx are tried again within the run (Retry-After honoured) and then fail
retryably, so the queue delivers the job again later with the wait the app asked for;
any other status fails the job for good, with the status and the body's start in the error.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from courier import strict_json
from courier.ai.retries import backoff_seconds, is_retryable, retry_after_seconds
from courier.errors import CourierError, InvalidInput
from courier.jobs import JobContext, JobResult
from courier.network import NetworkPolicy
from courier.outbound.allowlist import AllowedHosts
from courier.outbound.inputs import HttpRequestInput
from courier.settings import CommonSettings

#: Response headers kept in the result.
KEPT_HEADERS = ("content-type", "location", "etag", "retry-after", "x-request-id")
#: The longest in-run wait for a Retry-After; a longer one is the queue's to wait.
MAX_IN_RUN_WAIT = 30.0
#: Seconds the run keeps for itself after the last request (storing the result).
RESERVE_SECONDS = 5.0


def _allowlist() -> AllowedHosts:
    return AllowedHosts(CommonSettings.from_env().table_name)


def admit(tenant_id: str, spec: HttpRequestInput) -> None:
    """At enqueue: the host is one the tenant allowed (catalogue `admit`)."""
    _allowlist().require(tenant_id, spec.url)


def http_request(context: JobContext[HttpRequestInput]) -> JobResult:
    spec = context.input
    _allowlist().require(context.job.tenant_id, spec.url)
    policy, where = NetworkPolicy.from_env(), _without_query(spec.url)
    headers = dict(spec.headers)
    content = spec.body.encode() if spec.body is not None else None
    if spec.json_body is not None:
        content = json.dumps(spec.json_body).encode()
        headers.setdefault("Content-Type", "application/json")
    headers.setdefault("X-Courier-Job-Id", context.job.job_id)
    deadline = context.deadline - RESERVE_SECONDS
    tries = 0
    while True:
        tries += 1
        timeout = min(spec.timeout_seconds, max(1.0, deadline - time.monotonic()))
        context.progress("requesting", 0.0, f"try {tries} of {spec.retries + 1}")
        failure: str | None = None
        try:
            status, response_headers, body = policy.send(
                spec.method, spec.url, timeout=timeout, headers=headers, content=content,
                max_bytes=spec.max_response_bytes, what="url",
            )
        except InvalidInput:
            raise
        except Exception as error:  # httpx: refused, reset, timed out: the app may come back
            status, response_headers, body, failure = 0, {}, b"", f"{type(error).__name__}: {error}"[:300]
        if failure is None and 200 <= status < 300:
            return _result(status, response_headers, body, spec.max_response_bytes, tries)
        if failure is None and not is_retryable(status):
            raise CourierError(f"{where} answered {status}: {_text(body)[:500]}", code="http_status", status=502, retryable=False)
        wait = retry_after_seconds({k.lower(): v for k, v in response_headers.items()})
        reason = failure or f"{where} answered {status}"
        pause = wait if wait is not None else backoff_seconds(tries, 1.0, 8.0)
        if tries > spec.retries or pause > MAX_IN_RUN_WAIT or time.monotonic() + pause + 1 > deadline:
            raise CourierError(f"{reason} after {tries} tries", code="http_unavailable", status=503, retry_after=wait)
        time.sleep(pause)


def _without_query(url: str) -> str:
    """The URL as errors and logs name it: a query string may carry the app's secrets."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _text(body: bytes) -> str:
    return body.decode("utf-8", errors="replace")


def _result(status: int, headers: dict[str, str], body: bytes, limit: int, tries: int) -> JobResult:
    lowered = {k.lower(): v for k, v in headers.items()}
    result: dict[str, Any] = {
        "status": status,
        "headers": {k: lowered[k] for k in KEPT_HEADERS if k in lowered},
        "body": _text(body),
        "bodyTruncated": _truncated(len(body), limit, lowered.get("content-length")),
        "tries": tries,
    }
    if "json" in lowered.get("content-type", ""):
        try:
            result["json"] = strict_json.loads(body, limit=strict_json.MAX_INPUT_DEPTH)
        except ValueError as error:  # not JSON, NaN, or nested past what a view can show: the text stays
            result["jsonError"] = str(error)[:200]
    return result


def _truncated(kept: int, limit: int, length: str | None) -> bool:
    if kept < limit:
        return False
    return length is None or not length.isdigit() or int(length) > kept
