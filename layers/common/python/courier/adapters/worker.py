"""The worker runtime: one Lambda handler for QStash (Function URL) and SQS deliveries.

Both paths run the same job code and map its outcome the same way (docs/architecture.md,
"Delivery outcome"): done -> 200 / not reported; retryable or running elsewhere -> 5xx
(Retry-After when known) / reported; non-retryable -> 489 with
Upstash-NonRetryable-Error / not reported; bad signature -> 401, job untouched.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from typing import Any, cast

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes import LambdaFunctionUrlEvent
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from courier.adapters.lambda_events import event_kind, json_response, raw_body
from courier.aws import client
from courier.errors import MAX_RETRY_AFTER_SECONDS, NON_RETRYABLE_STATUS, CourierError, Misconfigured, error_body
from courier.jobs.dynamodb_store import DynamoJobStore
from courier.jobs.models import Job
from courier.jobs.registry import JobRegistry
from courier.jobs.runner import JobRunner, Outcome, Verdict
from courier.jobs.service import JobService, kept_transport
from courier.jobs.slots import TenantConcurrency, TenantSlots
from courier.jobs.steps import Calls
from courier.jobs.wiring import job_service
from courier.secrets import load_parameter, qstash_credentials
from courier.settings import WorkerSettings
from courier.signatures import SignatureVerifier

logger = logging.getLogger(__name__)

#: QStash's status for "do not retry": the message goes straight to its DLQ.


class WorkerRuntime:
    def __init__(
        self,
        runner: JobRunner,
        *,
        verifier: SignatureVerifier,
        public_url: Callable[[], str],
        max_receive_count: int,
        queue_url: str | None = None,
        delivered: Callable[[], None] | None = None,
    ) -> None:
        """`delivered`: called after each QStash delivery (the tenants' shares of the worker)."""
        self.runner = runner
        self.verifier = verifier
        self._public_url = public_url
        self.max_receive_count = max_receive_count
        self.queue_url = queue_url
        self._delivered = delivered

    @classmethod
    def from_env(cls, registry: JobRegistry, settings: WorkerSettings | None = None) -> WorkerRuntime:
        settings = settings or WorkerSettings.from_env()
        registry.require(settings.job_types, settings.name)
        store = DynamoJobStore(settings.table_name)
        jobs = job_service(settings, settings, store)
        runner = JobRunner(
            registry,
            store,
            notifier=jobs.notifier,
            bucket=settings.bucket_name,
            lease_seconds=settings.lease_seconds,
            time_limit_seconds=settings.timeout_seconds,
            fan_in=jobs.fan_in if settings.sends_jobs else None,
            usage=jobs.usage,
            wakes=jobs if settings.sends_jobs else None,
            calls=_calls(settings, jobs) if settings.sends_jobs else None,
            concurrency=_concurrency(settings, jobs) if settings.sends_jobs else None,
            defer=jobs.defer if settings.sends_jobs else None,
        )
        return cls(
            runner,
            verifier=SignatureVerifier(qstash_credentials),
            public_url=_public_url_from(settings),
            max_receive_count=settings.max_receive_count,
            queue_url=settings.queue_url,
            delivered=(lambda: jobs.dispatcher.delivered(settings.job_types[0])) if settings.job_types else None,
        )

    def __call__(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        kind = event_kind(event)
        if kind == "sqs":
            return self.handle_sqs(event, context)
        if kind == "function_url":
            return self.handle_function_url(event)
        raise ValueError(f"a worker takes Function URL or SQS events, not {kind!r}")

    # --- QStash, through the Function URL -------------------------------------------
    def handle_function_url(self, event: Mapping[str, Any]) -> dict[str, Any]:
        request = LambdaFunctionUrlEvent(dict(event))
        if request.http_method.upper() != "POST":
            return json_response(405, error_body("method_not_allowed", "QStash deliveries are POSTs"), {"allow": "POST"})
        body = raw_body(event)
        try:
            self.verifier.verify(signature=request.headers.get("upstash-signature"), body=body, url=self._public_url())
        except CourierError as error:
            # A rejected signature leaves the job untouched; a missing key is our fault (5xx).
            logger.warning("delivery refused: %s", error.message)
            return json_response(error.status, error.to_body())
        answer = qstash_answer(self.runner.run(body))
        if self._delivered is not None:
            self._delivered()
        return json_response(*answer)

    # --- SQS, through the event source mapping --------------------------------------
    def handle_sqs(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        return cast(dict[str, Any], process_partial_response(
            event=dict(event), record_handler=self._sqs_record, processor=processor, context=context
        ))

    def _sqs_record(self, record: SQSRecord) -> None:
        last = int(record.attributes.approximate_receive_count) >= self.max_receive_count
        outcome = self.runner.run(record.body, last_attempt=last)
        if sqs_reports_failure(outcome):
            if outcome.error is not None and outcome.error.retry_after:
                self._come_back_after(record, outcome.error.retry_after)
            raise RetryLater(outcome.error.message if outcome.error else "retry")
        if outcome.verdict is Verdict.REJECT:
            # Not reported, so SQS deletes it: retrying cannot help. The job (if any) is
            # marked failed; the message is logged in full so nothing vanishes silently.
            logger.error(
                "non-retryable message removed from the queue",
                extra={"messageId": record.message_id, "body": record.body[:2000], "error": outcome.error.to_body() if outcome.error else None},
            )

    def _come_back_after(self, record: SQSRecord, seconds: float) -> None:
        """The record returns when the job's lease ends (SQS's visibility, as QStash's
        Retry-After). If the change fails, it returns after the queue's timeout: later, not lost."""
        if not self.queue_url:
            return
        try:
            client("sqs").change_message_visibility(
                QueueUrl=self.queue_url, ReceiptHandle=record.receipt_handle,
                VisibilityTimeout=min(int(MAX_RETRY_AFTER_SECONDS), max(1, math.ceil(seconds))),
            )
        except Exception as error:  # botocore: throttled, expired receipt handle
            logger.warning("could not shorten the visibility of %s: %s", record.message_id, error)


def qstash_answer(outcome: Outcome) -> tuple[int, dict[str, Any], dict[str, str]]:
    """What QStash is told (status, body, headers): 200 acknowledges; 489 with
    Upstash-NonRetryable-Error sends the message to its DLQ now; a 5xx is retried, after
    Retry-After when the job knows how long (a live lease)."""
    if outcome.verdict is Verdict.DONE:
        status = outcome.status.value if outcome.status else "acknowledged"
        return 200, {"jobId": outcome.job_id, "status": status}, {}
    error = outcome.error or CourierError("the job could not run", code="internal_error")
    if outcome.verdict is Verdict.REJECT:
        return NON_RETRYABLE_STATUS, error.to_body(), {"Upstash-NonRetryable-Error": "true"}
    return (error.status if error.status >= 500 else 503), error.to_body(), error.retry_after_header()


def sqs_reports_failure(outcome: Outcome) -> bool:
    """Whether the record goes in batchItemFailures: only what another receive can help.
    A rejected record is not reported, so SQS deletes it (it is logged in full)."""
    return outcome.verdict is Verdict.RETRY


class RetryLater(Exception):
    """Raised for a record SQS should deliver again."""


def _calls(settings: WorkerSettings, jobs: JobService) -> Callable[[Job], Calls]:
    """Each job's calls: through QStash (the jobs API's call hook takes the answer) unless
    the job keeps to SQS or the deployment has no QStash; in process otherwise."""
    from courier.network import NetworkPolicy
    from courier.outbound.allowlist import AllowedHosts
    from courier.outbound.calls import CALL_HOOK_PATH, HttpCalls
    from courier.qstash_client import qstash_client

    allowed = AllowedHosts(settings.table_name)
    hook = settings.public_api_url + CALL_HOOK_PATH if settings.public_api_url else None

    def for_job(job: Job) -> Calls:
        by_qstash = jobs.dispatcher.mode != "sqs" and kept_transport(job) != "sqs"
        return HttpCalls(job.tenant_id, allowed.require, NetworkPolicy.from_env(), qstash_client if by_qstash else None, hook)

    return for_job


def _concurrency(settings: WorkerSettings, jobs: JobService) -> TenantConcurrency | None:
    """The tenants' limits below this worker's own, held by slots (courier.jobs.slots)."""
    if not settings.job_types:
        return None
    dispatcher, job_type = jobs.dispatcher, settings.job_types[0]

    def limit(tenant_id: str) -> int | None:
        route = dispatcher.routes.get(job_type)
        if route is None or not route.parallelism:
            return None
        own = dispatcher.limit(route, tenant_id).concurrency
        return own if own is not None and own < route.parallelism else None

    return TenantConcurrency(TenantSlots(settings.table_name), settings.name, limit, settings.lease_seconds)


def _public_url_from(settings: WorkerSettings) -> Callable[[], str]:
    if settings.public_url:
        url = settings.public_url
        return lambda: url
    if settings.public_url_parameter:
        name = settings.public_url_parameter
        return lambda: load_parameter(name)

    def unknown() -> str:
        raise Misconfigured("the worker does not know its public URL: set WORKER_PUBLIC_URL(_PARAMETER)")

    return unknown
