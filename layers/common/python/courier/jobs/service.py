"""What the jobs API does, without HTTP: submit, read, list, retry, cancel, and QStash's
word that it gave up on a message."""

from __future__ import annotations

import base64
import json
import logging
import math
import os
from dataclasses import replace
from typing import Any

from courier import observability, strict_json
from courier.errors import CourierError, InvalidInput, Unavailable
from courier.jobs import catalog
from courier.jobs.dispatch import MAX_DELAY_SECONDS, Dispatcher
from courier.jobs.endings import job_ended
from courier.jobs.fanout import FanIn
from courier.jobs.messages import JobMessage
from courier.jobs.models import Job, JobError, JobStatus, utc_in, utc_now
from courier.jobs.notify import Notifier
from courier.jobs.payloads import fingerprint, load_result, place_input, result_download_url, stored_files
from courier.jobs.steps import EVENT_WINDOW_SECONDS, MAX_EVENT_BYTES, check_event_key
from courier.jobs.store import JobStore, new_job_id, now_ms
from courier.jobs.usage import UsageStore
from courier.jobs.views import JobView
from courier.jobs.waiting import WaitingCount
from courier.network import NetworkPolicy
from courier.settings import DispatchMode
from courier.uploads import require_own_upload

logger = logging.getLogger(__name__)
UNDISPATCHED = "dispatch_failed"
#: Jobs one request may lead to, its children's children included (COURIER_MAX_DESCENDANTS).
MAX_DESCENDANTS = 500
#: Jobs one tenant may have waiting to run (queued or retrying; COURIER_MAX_QUEUED_JOBS):
#: past it a new request is 429 too_many_queued, recorded nowhere, to be sent again later.
MAX_QUEUED_JOBS = 10_000
QUEUED_RETRY_AFTER_SECONDS = 30
#: How long a stored file's presigned GET lasts: long enough to show, short enough to not leak.
FILE_URL_SECONDS = 300


class JobService:
    def __init__(
        self,
        store: JobStore,
        dispatcher: Dispatcher,
        notifier: Notifier,
        *,
        public_api_url: str = "",
        bucket: str | None = None,
        policy: NetworkPolicy | None = None,
        cancel_qstash_message: Any = None,
        usage: UsageStore | None = None,
    ) -> None:
        self.store = store
        self.dispatcher = dispatcher
        self.notifier = notifier
        self.public_api_url = public_api_url
        self.bucket = bucket
        self.policy = policy or NetworkPolicy.from_env()
        self._cancel_qstash_message = cancel_qstash_message
        #: Each tenant's month (jobs accepted here, compute counted by the runner).
        self.usage = usage
        self.fan_in = FanIn(self)
        self._waiting = WaitingCount(store)

    # --- submit -----------------------------------------------------------------------
    def submit(
        self, tenant_id: str, job_type: str, job_input: dict[str, Any], *, callback_url: str | None = None,
        idempotency_key: str | None = None, delay_seconds: int = 0, transport: DispatchMode | None = None,
        schedule_id: str | None = None, parent_id: str | None = None, hold: bool = False, key_names_request: bool = False,
    ) -> tuple[Job, bool]:
        """Record and dispatch a job; (job, created). A known idempotency key gives its job
        back, if the request is the same one (type and input); another is a 409, unless
        `key_names_request` (an inbound delivery: the provider's delivery id is the request,
        and a redelivery's input differs only by when it came). `hold`: record only (a
        fan-out sends its children after the parent waits for them)."""
        data = self.check_request(tenant_id, job_type, job_input, callback_url=callback_url)
        if not 0 <= delay_seconds <= MAX_DELAY_SECONDS:
            raise InvalidInput(f"delaySeconds is 0 to {MAX_DELAY_SECONDS}", code="invalid_delay")
        if parent_id is None:  # a child is bounded by its request's descendants instead
            self._check_waiting(tenant_id)
        now, job_id = utc_now(), new_job_id()
        inline, input_ref = place_input(self.bucket, tenant_id, job_id, data)
        job = Job(
            job_id=job_id, tenant_id=tenant_id, type=job_type, status=JobStatus.QUEUED,
            input=inline, input_ref=input_ref, created_at=now, updated_at=now,
            callback_url=callback_url, idempotency_key=idempotency_key, delay_seconds=delay_seconds, schedule_id=schedule_id,
            parent_id=parent_id,
        )
        job, created = self.store.create(job)
        if created:
            if self.usage is not None:
                self.usage.count(tenant_id, job_type, jobs=1)
            return (job, True) if hold else (self._dispatch(job, transport), True)
        if not key_names_request and (job.type != job_type or job.parent_id != parent_id or _input_fingerprint(job) != fingerprint(data)):
            raise CourierError(
                f"idempotencyKey {idempotency_key!r} was used for another request (job {job.job_id}); use a new key",
                code="idempotency_conflict", status=409, retryable=False,
            )
        if hold:
            return job, False
        if job.status is JobStatus.FAILED and job.error and job.error.code == UNDISPATCHED:
            # The first try found no queue; the same request again is the natural retry.
            return self._dispatch(self.store.requeue(tenant_id, job.job_id), transport), False
        return job, False

    def _check_waiting(self, tenant_id: str) -> None:
        limit = self.max_queued(tenant_id)
        if self._waiting.count(tenant_id, limit) >= limit:
            raise CourierError(f"this tenant has {limit} jobs waiting to run, its most; send this one again later",
                               code="too_many_queued", status=429, retry_after=QUEUED_RETRY_AFTER_SECONDS)
        self._waiting.added(tenant_id)

    def max_queued(self, tenant_id: str) -> int:
        """The tenant's own cap when an operator set one, else the deployment's."""
        default = int(os.environ.get("COURIER_MAX_QUEUED_JOBS", MAX_QUEUED_JOBS))
        limits = self.dispatcher.limits
        if limits is None:
            return default
        try:
            return limits(tenant_id).max_queued or default
        except Exception as error:  # the table unreachable: the deployment's cap holds
            logger.warning("tenant %s's limits could not be read (%s)", tenant_id, error)
            return default

    def check_request(self, tenant_id: str, job_type: str, job_input: dict[str, Any], *, callback_url: str | None = None) -> dict[str, Any]:
        """A job request as it would be accepted (the input as its model dumps it), or the
        error it would get: for jobs, and for schedules when they are created. The children
        it names are checked the same way, and all it may lead to is bounded."""
        data, descendants = self._checked(tenant_id, job_type, job_input)
        limit = int(os.environ.get("COURIER_MAX_DESCENDANTS", MAX_DESCENDANTS))
        if descendants > limit:
            raise InvalidInput(f"this request may lead to {descendants} more jobs; one request leads to at most {limit}",
                               code="too_many_descendants")
        if callback_url:
            self._check_callback(callback_url)
        return data

    def _checked(self, tenant_id: str, job_type: str, job_input: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """(the input as accepted, how many jobs it may lead to besides itself)."""
        strict_json.require_standard(job_input)
        known = catalog.load()
        validated = known.validate_input(job_type, job_input)
        self.dispatcher.route(job_type)
        for field, key in known.upload_keys(job_type, validated).items():
            require_own_upload(key, tenant_id, field)  # checked again where read
        known.admit(job_type, tenant_id, validated)
        descendants = validated.children_bound()
        for index, (child_type, child_input) in enumerate(validated.planned_children()):
            try:
                descendants += 1 + self._checked(tenant_id, child_type, child_input)[1]
            except CourierError as error:
                error.message = f"child {index} ({child_type}): {error.message}"
                raise
        return validated.model_dump(by_alias=True, exclude_none=True), descendants

    def release(self, job: Job) -> Job:
        """Dispatch a job recorded with `hold` (or resumed for its continuation)."""
        return self._dispatch(job)

    def wake_later(self, job: Job, until_ms: int, link: int) -> None:
        """A waiting job's wake-up: a message delayed until `until_ms` (QStash's delay; SQS's
        stops at 900 s, and an early wake-up passes the chain on). Not recorded as the job's
        message: a wake-up's failure hook never touches the job. Unavailable when no queue takes it."""
        delay = max(0, math.ceil((until_ms - now_ms()) / 1000))
        self.dispatcher.dispatch(replace(job, delay_seconds=delay), wake=link, mode=kept_transport(job))

    def defer(self, job_id: str, seconds: int, *, wake: int | None, deferred: int) -> bool:
        """Send the job's message again in `seconds`: its tenant had no free slot on the worker
        (courier.jobs.slots). False when there is nothing to send (the job ended or is gone).
        A wake-up stays a wake-up, and is not recorded as the job's message (as `wake_later`)."""
        job = self.store.get(job_id)
        if job is None or job.status.terminal:
            return False
        sent = self.dispatcher.dispatch(replace(job, delay_seconds=seconds), mode=kept_transport(job), wake=wake, deferred=deferred)
        if wake is None:
            self.store.record_dispatch(job.job_id, sent.transport, sent.message_id, sent.fallback_reason)
        return True

    def finished(self, job: Job) -> None:
        job_ended(job, self.notifier, self.fan_in)

    def _dispatch(self, job: Job, transport: DispatchMode | None = None) -> Job:
        try:
            sent = self.dispatcher.dispatch(job, mode=transport)
        except Unavailable as error:
            failed = self.store.mark_undispatched(job, JobError(UNDISPATCHED, error.message, True))
            observability.count("JobsUndispatched", type=job.type)
            self.fan_in.child_finished(failed)
            raise Unavailable(f"{error.message} (job {job.job_id})", code="queues_unavailable", retry_after=5) from None
        observability.count("JobsEnqueued", transport=sent.transport)
        if sent.fallback_reason:
            observability.count("JobsFellBack", type=job.type)
        try:
            return self.store.record_dispatch(job.job_id, sent.transport, sent.message_id, sent.fallback_reason)
        except Exception as error:  # the message is on its way and the job recorded: it runs regardless
            logger.error("job %s was dispatched (%s) but recording it failed: %s", job.job_id, sent.message_id, error)
            return job

    # --- read -------------------------------------------------------------------------
    def tenant_of(self, job_id: str) -> str | None:
        job = self.store.get(job_id)
        return job.tenant_id if job else None

    def view(self, job: Job, *, steps: bool = False) -> dict[str, Any]:
        """`steps`: with the job's steps (one more read; `GET /v1/jobs/{id}`, not the list)."""
        return JobView.of(
            job, input=catalog.load().redacted_input(job.type, job.input), statusUrl=self.status_url(job.job_id),
            resultUrl=result_download_url(job.result_ref) if job.result_ref else None,
            children=self.fan_in.summary(job) if job.children else None,
            steps=[record.view() for record in self.store.steps(job.job_id)] or None if steps else None,
        )

    def files(self, tenant_id: str, job_id: str, expires_in: int = FILE_URL_SECONDS) -> dict[str, Any]:
        """Presigned GETs of the files the job stored in its results folder (its keyframes)."""
        job = self.get(tenant_id, job_id)
        if job.status is not JobStatus.SUCCEEDED or not self.bucket:
            return {"files": [], "expiresAt": utc_in(expires_in)}
        result = job.result if job.result_ref is None else load_result(job.result_ref)
        keys = stored_files(result, tenant_id, job_id)
        urls = [{"key": key, "url": result_download_url({"bucket": self.bucket, "key": key}, expires_in)} for key in keys]
        return {"files": urls, "expiresAt": utc_in(expires_in)}

    def status_url(self, job_id: str) -> str:
        return f"{self.public_api_url}/v1/jobs/{job_id}"

    def get(self, tenant_id: str, job_id: str) -> Job:
        return self.store.get_for_tenant(tenant_id, job_id)

    def list(self, tenant_id: str, *, status: str | None, job_type: str | None, cursor: str | None, limit: int) -> tuple[list[Job], str | None]:
        try:
            wanted = JobStatus(status) if status else None
        except ValueError:
            raise InvalidInput(f"unknown status {status!r}", code="invalid_status") from None
        return self.store.list(tenant_id, status=wanted, job_type=job_type, cursor=cursor, limit=limit)

    # --- change -----------------------------------------------------------------------
    def retry(self, tenant_id: str, job_id: str, *, from_start: bool = False) -> Job:
        """A failed or dead job again: a job of steps resumes at the step that failed (its
        steps before it keep their results), or with `from_start` runs every step anew."""
        job = self.store.requeue(tenant_id, job_id)
        if from_start:
            self.store.clear_steps(job_id)
        return self._dispatch(job)

    def post_event(self, tenant_id: str, key: str, data: Any) -> dict[str, Any]:
        """`POST /v1/events`: the event kept for the window, and every job of the tenant that
        waits for its key queued (once, however often it is posted); their runs read it."""
        check_event_key(key)
        size = len(strict_json.dumps(data).encode())
        if size > MAX_EVENT_BYTES:
            raise InvalidInput(f"an event's data is at most {MAX_EVENT_BYTES} bytes as JSON, not {size}", code="event_too_large", status=413)
        return self.deliver_event(tenant_id, key, data)

    def deliver_event(self, tenant_id: str, key: str, data: Any) -> dict[str, Any]:
        """An event checked already (a tenant's, or a call's answer under Courier's own key)."""
        woken = 0
        for job_id in self.store.put_event(tenant_id, key, data):  # the key's partition is the tenant's own
            queued = self.store.nudge(job_id, key)
            if queued is not None and queued.tenant_id == tenant_id:
                self._dispatch(queued, kept_transport(queued))
                woken += 1
        observability.count("EventsPosted")
        return {"key": key, "woke": woken, "keptSeconds": EVENT_WINDOW_SECONDS}

    def cancel(self, tenant_id: str, job_id: str) -> Job:
        job = self.store.cancel(tenant_id, job_id)
        if job.transport == "qstash" and job.message_id and self._cancel_qstash_message:
            try:
                self._cancel_qstash_message(job.message_id)
            except Exception as error:  # delivered anyway, the worker finds it cancelled and skips it
                logger.warning("could not cancel QStash message %s: %s", job.message_id, error)
        observability.count("JobsCancelled", type=job.type)
        self.fan_in.child_finished(job)
        return job

    def qstash_gave_up(self, payload: dict[str, Any]) -> Job | None:
        """QStash's failure callback: its retries of a job's message are exhausted."""
        try:
            message = JobMessage.parse(base64.b64decode(payload["sourceBody"]))
        except (KeyError, TypeError, ValueError):
            raise InvalidInput("not a failure callback for a Courier job", code="invalid_callback") from None
        body = payload.get("body") or ""
        try:
            last_body = base64.b64decode(body).decode("utf-8", errors="replace")[:2000]
        except (TypeError, ValueError):
            last_body = ""
        status = payload.get("status")
        last_response = {"status": status, "body": last_body, "retried": payload.get("retried"), "dlqId": payload.get("dlqId")}
        reason = _error_message(last_body)
        error = JobError(
            "retries_exhausted",
            f"QStash gave up after {payload.get('retried', '?')} retries; last response {status}" + (f": {reason}" if reason else ""),
            False,
        )
        source = payload.get("sourceMessageId")
        if not isinstance(source, str) or not source:
            # Without it the word could be about any dispatch of the job, an old one included.
            raise InvalidInput("a failure callback names its sourceMessageId", code="invalid_callback")
        job = self.store.mark_dead(message.job_id, error, last_response, message_id=source)
        if job is None:
            logger.info("failure callback for %s ignored: the job is finished, running, or dispatched again", message.job_id)
            return None
        observability.count("JobsDead", type=job.type)
        self.finished(job)
        return job

    def _check_callback(self, url: str) -> None:
        try:
            self.policy.check(url, "callbackUrl")
        except CourierError as error:
            raise InvalidInput(error.message, code="invalid_callback_url", status=400) from None
        if _origin(url) in self._own_origins():
            # QStash would sign the outcome with Courier's keys and deliver it to a worker or a
            # hook of Courier's own, which would take it for one of its messages.
            raise InvalidInput("the callbackUrl points at Courier itself (a worker or the API); give your app's URL",
                               code="invalid_callback_url", status=400)

    def _own_origins(self) -> set[str]:
        urls = [self.public_api_url] + [route.url for route in self.dispatcher.routes.values()]
        return {_origin(u) for u in urls if u}


def _origin(url: str) -> str:
    """scheme://host:port, lower-cased, with the scheme's default port spelled out."""
    from urllib.parse import urlsplit

    parts = urlsplit(url.strip())
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        port = 0
    return f"{parts.scheme.lower()}://{(parts.hostname or '').rstrip('.').lower()}:{port}"


def _input_fingerprint(job: Job) -> str:
    return str(job.input_ref["sha256"]) if job.input_ref else fingerprint(job.input)


def _error_message(body: str) -> str | None:
    """The worker's own error message, when the last response was Courier's error shape."""
    try:
        return str(json.loads(body)["error"]["message"])[:500]
    except (ValueError, KeyError, TypeError):
        return None


def kept_transport(job: Job) -> DispatchMode | None:
    """A job its caller sent by SQS (`transport: "sqs"`) wakes by SQS too; any other, by the
    deployment's mode (QStash first). A job that fell back to SQS tries QStash again."""
    return "sqs" if job.transport == "sqs" and not job.fallback_reason else None


def failure_payload(raw: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(raw)
    except ValueError:
        raise InvalidInput("the failure callback body is not JSON", code="invalid_callback") from None
    if not isinstance(payload, dict):
        raise InvalidInput("the failure callback body is not an object", code="invalid_callback")
    return payload

