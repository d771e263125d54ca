"""A step's HTTP call (`context.call`), made by QStash while no Lambda waits, or in process.

QStash calls the target and posts the answer to the jobs API's call hook (signed, the
step's event key in the URL), which keeps it as a Courier-only event and nudges the job; the
job's next run takes the answer as the step's result. Where QStash cannot take the call (no
token, unreachable, or a job its caller sent by SQS) the same request is made here, with the
same answer's shape. Either way the target is checked first: on the tenant's allowed hosts,
and public by the network policy.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from courier.errors import InvalidInput
from courier.jobs.steps import CallRequest
from courier.network import NetworkPolicy

logger = logging.getLogger(__name__)

CALL_HOOK_PATH = "/v1/hooks/qstash/call"
#: The answer's headers a step gets.
KEPT_HEADERS = ("content-type", "retry-after", "retry-after-ms", "location", "etag", "x-request-id")
#: The most of an answer's body a step gets (kept in one DynamoDB item until the step takes it;
#: a longer one is cut there and marked `truncated`, made by QStash or in process alike).
MAX_ANSWER_BYTES = 128 * 1024
#: Bodies up to this size come parsed too (`json`), when they are JSON.
PARSED_BYTES = 32 * 1024


@dataclass(frozen=True)
class HttpCalls:
    """`courier.jobs.steps.Calls` for one job of one tenant."""

    tenant_id: str
    require_allowed: Callable[[str, str], None]
    policy: NetworkPolicy
    #: The official SDK's client (None: no QStash, every call in process).
    qstash: Callable[[], Any] | None
    #: Where QStash posts the answer (the jobs API's call hook); None: in process.
    hook_url: str | None

    def check(self, request: CallRequest) -> None:
        if not request.catalogued:
            self.require_allowed(self.tenant_id, request.url)
        self.policy.check(request.url, "url")

    def offload(self, request: CallRequest, key: str) -> bool:
        if self.qstash is None or not self.hook_url:
            return False
        answer_to = f"{self.hook_url}?key={key}"
        try:
            self.qstash().message.publish(
                url=request.url, method=request.method, headers=request.headers or None, body=request.body,
                callback=answer_to, failure_callback=answer_to, retries=0, timeout=max(1, round(request.timeout_seconds)),
                deduplication_id=key, label="courier-call",
            )
        except Exception as error:  # QStash down or refusing: the call is made here instead
            logger.warning("QStash could not take the call %s (%s); calling in process", key, type(error).__name__)
            return False
        return True

    def send(self, request: CallRequest) -> dict[str, Any]:
        try:
            status, headers, body = self.policy.send(
                request.method, request.url, timeout=request.timeout_seconds, headers=request.headers,
                content=request.body.encode() if request.body is not None else None, max_bytes=MAX_ANSWER_BYTES + 1, what="url",
            )
        except InvalidInput:
            raise
        except Exception as error:  # refused, reset, timed out: no answer, which the step retries
            return {"status": 0, "headers": {}, "body": f"{type(error).__name__}: {error}"[:300]}
        return answer(status, headers, body)


def take_answer(key: str, payload: Mapping[str, Any], *, job_tenant: Callable[[str], str | None],
                deliver: Callable[[str, str, Any], Any]) -> bool:
    """The call hook: QStash's answer kept as the step's Courier-only event and its job
    nudged. False: no job of that key (a stale answer)."""
    from courier.jobs.steps import job_of_call_key

    job_id = job_of_call_key(key)
    tenant = job_tenant(job_id) if job_id else None
    if job_id is None or tenant is None:
        return False
    deliver(tenant, key, answer_of_callback(payload))
    return True


def answer(status: int, headers: Mapping[str, Any], body: bytes) -> dict[str, Any]:
    """The one shape of a call's answer: status, the headers that matter, the body as text
    (and as `json` when it is JSON)."""
    kept = {k.lower(): (v[0] if isinstance(v, list) and v else v) for k, v in headers.items() if k.lower() in KEPT_HEADERS}
    text = body[:MAX_ANSWER_BYTES].decode("utf-8", errors="replace")
    shaped: dict[str, Any] = {"status": status, "headers": kept, "body": text}
    if len(body) > MAX_ANSWER_BYTES:
        shaped["truncated"] = True
    if "json" in str(kept.get("content-type", "")) and len(text) <= PARSED_BYTES:
        try:
            shaped["json"] = json.loads(text)
        except ValueError:
            pass
    return shaped


def answer_of_callback(payload: Mapping[str, Any]) -> dict[str, Any]:
    """QStash's callback (or failure callback) body: the target's status, headers (lists)
    and base64 body, in the same shape as a call made in process."""
    try:
        body = base64.b64decode(payload.get("body") or "")
        status = int(payload.get("status") or 0)
    except (TypeError, ValueError):
        raise InvalidInput("not a QStash callback", code="invalid_callback") from None
    headers = payload.get("header") or {}
    return answer(status, headers if isinstance(headers, Mapping) else {}, body)
