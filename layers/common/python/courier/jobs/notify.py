"""Telling the app a job ended: its outcome POSTed to the job's callbackUrl.

Through QStash (signed, retried) when it can take it; when QStash is unreachable or
overloaded, one direct POST signed the same way, so the app verifies both with the
Receiver and keys it already has. The URL passes the network policy first (it was
checked at enqueue; DNS may have changed since), and a QStash refusal of the URL is
final: the direct POST is a fallback for an unavailable QStash, not a second opinion.
How it went is recorded on the job (`callbackDelivery`), never only in a log line.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any, Protocol

from courier import strict_json
from courier.errors import CourierError
from courier.jobs.models import Job, utc_now
from courier.network import NetworkPolicy
from courier.secrets import QStashCredentials
from courier.signatures import sign

logger = logging.getLogger(__name__)

CALLBACK_RETRIES = 3
DIRECT_TIMEOUT_SECONDS = 5.0
_STATUS = re.compile(r"status: (\d{3})")


class CallbackLog(Protocol):
    def record_callback(self, job_id: str, delivery: dict[str, Any]) -> None: ...


def outcome(job: Job) -> dict[str, Any]:
    body: dict[str, Any] = {"jobId": job.job_id, "type": job.type, "status": job.status.value}
    if job.result is not None or job.result_ref is not None:
        body["result"] = job.result if job.result is not None else {"resultRef": job.result_ref}
    if job.error is not None:
        body["error"] = job.error.to_dict()
    if job.finished_at:
        body["finishedAt"] = job.finished_at
    return body


def qstash_refused(error: Exception) -> bool:
    """A 4xx other than 429 from QStash: it will not take this message, now or later."""
    from qstash.errors import DailyMessageLimitExceededError, QStashError, RateLimitExceededError

    if not isinstance(error, QStashError) or isinstance(error, (RateLimitExceededError, DailyMessageLimitExceededError)):
        return False
    found = _STATUS.search(str(error))
    return found is not None and 400 <= int(found.group(1)) < 500 and found.group(1) != "429"


class Notifier:
    def __init__(
        self, qstash: Callable[[], Any] | None, credentials: Callable[[], QStashCredentials], *,
        log: CallbackLog | None = None, policy: NetworkPolicy | None = None,
    ) -> None:
        self._qstash = qstash
        self._credentials = credentials
        self._log = log
        self._policy = policy

    @property
    def policy(self) -> NetworkPolicy:
        return self._policy or NetworkPolicy.from_env()

    def job_finished(self, job: Job) -> dict[str, Any] | None:
        """Send the outcome if the job asked for it; returns (and records) how it went."""
        if not job.callback_url or not job.status.terminal:
            return None
        delivery = self._deliver(job, job.callback_url)
        delivery["at"] = utc_now()
        if delivery["status"] != "sent":
            logger.error("the callback of %s was not sent: %s", job.job_id, delivery.get("error"))
        if self._log is not None:
            try:
                self._log.record_callback(job.job_id, delivery)
            except Exception as error:  # the outcome itself is stored; this is the news of its news
                logger.warning("could not record the callback delivery of %s: %s", job.job_id, error)
        return delivery

    def _deliver(self, job: Job, url: str) -> dict[str, Any]:
        try:
            self.policy.check(url, "callbackUrl")
        except CourierError as error:
            return {"status": "refused", "error": error.message}
        body = strict_json.dumps(outcome(job), separators=(",", ":"))
        if self._qstash is not None:
            try:
                self._qstash().message.publish(
                    url=url, body=body, content_type="application/json",
                    retries=CALLBACK_RETRIES, deduplication_id=f"{job.job_id}-callback-{job.attempts}-{job.status.value}",
                )
                return {"status": "sent", "via": "qstash"}
            except Exception as error:
                if qstash_refused(error):
                    return {"status": "refused", "via": "qstash", "error": f"QStash refused the callback: {str(error)[:300]}"}
                # QStash down or overloaded: fall back, never lose the news.
                logger.warning("QStash could not take the callback of %s: %s", job.job_id, error)
        return self._post_directly(url, body.encode())

    def _post_directly(self, url: str, body: bytes) -> dict[str, Any]:
        import httpx

        try:
            key = self._credentials().current_signing_key
            status, _, _ = self.policy.send(
                "POST", url, content=body, timeout=DIRECT_TIMEOUT_SECONDS, max_bytes=1024, what="callbackUrl",
                headers={"Content-Type": "application/json", "Upstash-Signature": sign(key, url=url, body=body)},
            )
        except (httpx.HTTPError, CourierError) as error:
            return {"status": "failed", "via": "direct", "error": f"{type(error).__name__}: {getattr(error, 'message', error)}"[:300]}
        if status >= 300:
            return {"status": "failed", "via": "direct", "error": f"the receiver answered {status}"}
        return {"status": "sent", "via": "direct"}
