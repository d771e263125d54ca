"""A webhook delivery taken in: verified on its raw bytes, answered at once, made a job.

The provider's signature is the only credential (no API key). A delivery is refused, with
no job and never a 5xx, when its source is unknown (404), its body too large (413) or of a
type no provider sends (415), or its signature bad, missing or stale (401); each refusal is
counted (`WebhooksRefused` by code) and, where its source is known, listed among the
source's deliveries. An accepted delivery becomes the source's target job, with the
provider's delivery id as its idempotency key (`courier:inbound:{source}:{delivery}`), so a
redelivery answers 200 and makes no second job, however many arrive at once.
"""

from __future__ import annotations

import hmac
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from courier import observability
from courier.errors import CourierError, NotFound
from courier.inbound.deliveries import Delivery, DeliveryLog
from courier.inbound.sources import Opened, SourceStore
from courier.inbound.verifiers import SIGNATURE_HEADERS, VERIFIERS, Check, Verified
from courier.jobs.service import JobService

#: The largest body taken (a provider's events are kilobytes; Lambda's payload limit is 6 MB).
MAX_BODY_BYTES = 1024 * 1024
MEDIA_TYPES = ("application/json", "application/x-www-form-urlencoded", "text/plain")
#: Never kept with the job: credentials, signatures, and what only the transport needs.
DROPPED_HEADERS = SIGNATURE_HEADERS | {"authorization", "cookie", "x-api-key", "host", "content-length", "connection", "x-forwarded-for"}
MAX_HEADERS, MAX_HEADER_VALUE = 40, 1000
_SOURCE_ID = re.compile(r"^src_[0-9a-f]{24}$")
_PLACEHOLDER = re.compile(r"^\{\{\s*webhook((?:\.[A-Za-z0-9_]+)*)\s*\}\}$")


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any] | str
    headers: dict[str, str]


class Inbound:
    def __init__(self, sources: SourceStore, log: DeliveryLog, jobs: JobService) -> None:
        self.sources = sources
        self.log = log
        self.jobs = jobs

    def handshake(self, source_id: str, query: Mapping[str, str]) -> Answer:
        """Meta's subscription check: `hub.challenge` back, as text, only when `hub.mode` is
        subscribe and `hub.verify_token` is the source's (compared in constant time)."""
        opened = self._opened(source_id)
        token = query.get("hub.verify_token", "")
        if (opened is None or opened.source.provider != "meta" or query.get("hub.mode") != "subscribe" or not opened.verify_token
                or not hmac.compare_digest(token.encode(), opened.verify_token.encode())):
            observability.count("WebhooksRefused", code="bad_handshake")
            return _refused(CourierError("the subscription handshake does not match this source", code="bad_handshake", status=403))
        return Answer(200, query.get("hub.challenge", ""), {})

    def receive(self, source_id: str, raw: bytes, headers: Mapping[str, str]) -> Answer:
        lowered = {name.lower(): value for name, value in headers.items()}
        opened = self._opened(source_id)
        if opened is None:
            observability.count("WebhooksRefused", code="unknown_source")
            return _refused(NotFound(f"no source {source_id[:64]!r}", code="unknown_source"))
        source, received = opened.source, _now()
        try:
            verified = self._verify(opened, raw, lowered)
        except CourierError as error:
            return self._refuse(source_id, error, received)
        payload = {
            "source": source.source_id, "provider": source.provider, "eventType": verified.event_type, "deliveryId": verified.delivery_id,
            "receivedAt": received, "headers": kept_headers(lowered, source.signature_header), "body": body_of(raw, lowered),
        }
        try:
            job, created = self.jobs.submit(source.tenant_id, source.target.type, fill(source.target.input, payload),
                                            idempotency_key=f"courier:inbound:{source.source_id}:{verified.delivery_id}"[:255],
                                            key_names_request=True)
        except CourierError as error:
            return self._refuse(source_id, error, received, verified)
        self.log.record(source_id, Delivery(receivedAt=received, verdict="accepted" if created else "duplicate", status=200, deliveryId=verified.delivery_id,
                                            eventType=verified.event_type, jobId=job.job_id))
        observability.count("WebhooksAccepted" if created else "WebhooksDuplicate", provider=source.provider)
        return Answer(200, {"received": True, "jobId": job.job_id, "duplicate": not created}, {})

    def _opened(self, source_id: str) -> Opened | None:
        return self.sources.opened(source_id) if _SOURCE_ID.match(source_id) else None

    def _verify(self, opened: Opened, raw: bytes, headers: dict[str, str]) -> Verified:
        if len(raw) > MAX_BODY_BYTES:
            raise CourierError(f"the body is {len(raw)} bytes; at most {MAX_BODY_BYTES}", code="body_too_large", status=413, retryable=False)
        media = headers.get("content-type", "").split(";")[0].strip().lower()
        if media not in MEDIA_TYPES:
            raise CourierError(f"a webhook's body is {', '.join(MEDIA_TYPES)}, not {media or 'untyped'}", code="unsupported_media_type",
                               status=415, retryable=False)
        source = opened.source
        check = Check(raw, headers, opened.secrets, time.time(), source.signature_header, source.id_header)
        return VERIFIERS[source.provider](check)

    def _refuse(self, source_id: str, error: CourierError, received: str, verified: Verified | None = None) -> Answer:
        observability.count("WebhooksRefused", code=error.code)
        self.log.record(source_id, Delivery(receivedAt=received, verdict="refused", status=error.status,
                                            deliveryId=verified.delivery_id if verified else None,
                                            eventType=verified.event_type if verified else None,
                                            error={"code": error.code, "message": error.message[:300]}))
        return _refused(error)


def _refused(error: CourierError) -> Answer:
    return Answer(error.status, error.to_body(), error.retry_after_header())


def kept_headers(headers: dict[str, str], signature_header: str | None) -> dict[str, str]:
    dropped = DROPPED_HEADERS | ({signature_header.lower()} if signature_header else set())
    kept = {name: value[:MAX_HEADER_VALUE] for name, value in sorted(headers.items()) if name not in dropped}
    return dict(list(kept.items())[:MAX_HEADERS])


def body_of(raw: bytes, headers: dict[str, str]) -> Any:
    """JSON as its value; anything else as text (form bodies, text)."""
    text = raw.decode("utf-8", errors="replace")
    if headers.get("content-type", "").startswith("application/json"):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def fill(template: Any, payload: dict[str, Any]) -> Any:
    """The target's input with each `{{webhook...}}` string replaced by that part of the delivery."""
    if isinstance(template, dict):
        return {name: fill(value, payload) for name, value in template.items()}
    if isinstance(template, list):
        return [fill(value, payload) for value in template]
    match = _PLACEHOLDER.match(template) if isinstance(template, str) else None
    if match is None:
        return template
    value: Any = payload
    for step in filter(None, match.group(1).split(".")):
        value = value.get(step) if isinstance(value, dict) else None
    return value


def sample_delivery(provider: str) -> dict[str, Any]:
    """A delivery's shape with placeholder values: a source's target is checked on it when
    the source is made (its type, its input model, the tenant's allowed hosts)."""
    return {"source": "src_sample", "provider": provider, "eventType": "sample", "deliveryId": "sample",
            "receivedAt": _now(), "headers": {}, "body": {}}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
