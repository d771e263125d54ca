"""Telling the app a job ended: its outcome POSTed to the job's callbackUrl.

Through QStash (signed, retried) when it can take it; otherwise one direct POST signed
the same way, so the app verifies both with the Receiver and keys it already has.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Callable

from courier.errors import CourierError
from courier.jobs.models import Job
from courier.secrets import QStashCredentials
from courier.signatures import sign

logger = logging.getLogger(__name__)

CALLBACK_RETRIES = 3
DIRECT_TIMEOUT_SECONDS = 5.0


def outcome(job: Job) -> dict[str, Any]:
    body: dict[str, Any] = {"jobId": job.job_id, "type": job.type, "status": job.status.value}
    if job.result is not None or job.result_ref is not None:
        body["result"] = job.result if job.result is not None else {"resultRef": job.result_ref}
    if job.error is not None:
        body["error"] = job.error.to_dict()
    if job.finished_at:
        body["finishedAt"] = job.finished_at
    return body


class Notifier:
    def __init__(self, qstash: Callable[[], Any] | None, credentials: Callable[[], QStashCredentials]) -> None:
        self._qstash = qstash
        self._credentials = credentials

    def job_finished(self, job: Job) -> str | None:
        """Send the outcome if the job asked for it; returns how it went ("qstash", "direct", None)."""
        if not job.callback_url or not job.status.terminal:
            return None
        body = json.dumps(outcome(job), separators=(",", ":"))
        if self._qstash is not None:
            try:
                self._qstash().message.publish(
                    url=job.callback_url, body=body, content_type="application/json",
                    retries=CALLBACK_RETRIES, deduplication_id=f"{job.job_id}-callback-{job.attempts}-{job.status.value}",
                )
                return "qstash"
            except Exception as error:  # QStash down or refusing: fall back, never lose the news
                logger.warning("QStash could not take the callback of %s: %s", job.job_id, error)
        return self._post_directly(job.callback_url, body.encode())

    def _post_directly(self, url: str, body: bytes) -> str | None:
        import httpx

        try:
            key = self._credentials().current_signing_key
            response = httpx.post(
                url, content=body, timeout=DIRECT_TIMEOUT_SECONDS,
                headers={"Content-Type": "application/json", "Upstash-Signature": sign(key, url=url, body=body)},
            )
            response.raise_for_status()
            return "direct"
        except (httpx.HTTPError, CourierError) as error:
            logger.error("the callback to %s failed: %s", url, error)
            return None
