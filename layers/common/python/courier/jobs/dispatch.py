"""Sending a job to its worker: QStash first, SQS when QStash cannot take it.

QStash delivers to the worker's Function URL, retries, and calls our failure hook when it
gives up. When QStash is unreachable, slow, refusing (5xx, 429) or not configured, the
job goes to the worker's SQS queue instead, whose event source mapping runs it the same
way. When both fail the caller is told (503) and the job stays recorded as undispatched.

Tenants share a worker fairly on both (`fair=True`, the default): on QStash each tenant has
its own flow-control key per worker (`{worker key}.{tenant}`), so one tenant's backlog waits
behind its own key and another tenant's job starts as soon as the worker has room; on SQS
each message's group is its tenant (MessageGroupId on a standard queue: an SQS fair queue,
which serves the groups with fewer messages in flight first).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from courier.aws import client
from courier.errors import CourierError, Misconfigured, Unavailable
from courier.jobs.messages import JobMessage
from courier.jobs.models import Job
from courier.settings import DispatchMode

logger = logging.getLogger(__name__)

Transport = Literal["qstash", "sqs"]
TRANSPORT_NAMES: dict[Transport, str] = {"qstash": "QStash", "sqs": "SQS"}
#: SQS delays stop at 15 minutes; the API keeps both transports equal.
MAX_DELAY_SECONDS = 900
QSTASH_RETRIES = 3
#: Seconds a publish to QStash may take before SQS gets the job (API Gateway allows 29 in all).
QSTASH_TIMEOUT = 5.0


@dataclass(frozen=True)
class Route:
    """Where one job type runs: its worker's Function URL and SQS queue."""

    worker: str
    url: str
    queue_url: str
    #: The worker function's timeout: QStash waits this long for its answer.
    timeout_seconds: int | None = None
    #: QStash flow control: deliveries with one key never exceed `parallelism` at once
    #: (nor `rate_per_second`), so a burst waits in QStash instead of meeting 429s and
    #: QStash's exponential backoff.
    flow_key: str | None = None
    parallelism: int | None = None
    rate_per_second: int | None = None


@dataclass(frozen=True)
class Dispatch:
    transport: Transport
    message_id: str
    #: Why a job meant for QStash went by SQS (recorded on the job, shown by the API), so a
    #: deployment without a QStash token is visible on its first job, not only in a log.
    fallback_reason: str | None = None


def routes_from_json(text: str) -> dict[str, Route]:
    """COURIER_JOB_TYPES, as CDK writes it: {type: {worker, url, queueUrl, timeoutSeconds,
    flowKey, parallelism, ratePerSecond}}."""
    data = json.loads(text or "{}")

    def number(value: Any) -> int | None:
        return int(value) if value else None

    return {
        job_type: Route(
            v["worker"], v["url"], v["queueUrl"], number(v.get("timeoutSeconds")),
            v.get("flowKey") or None, number(v.get("parallelism")), number(v.get("ratePerSecond")),
        )
        for job_type, v in data.items()
    }


class ParameterRoutes(Mapping[str, Route]):
    """The routes from an SSM parameter, read on the first dispatch (a worker that never
    starts a child or resumes a parent never reads it)."""

    def __init__(self, name: str, load: Callable[[str], str] | None = None) -> None:
        self.name = name
        self._load = load
        self._routes: dict[str, Route] | None = None

    def _all(self) -> dict[str, Route]:
        if self._routes is None:
            if self._load is None:
                from courier.secrets import load_parameter

                self._load = load_parameter
            self._routes = routes_from_json(self._load(self.name))
        return self._routes

    def __getitem__(self, job_type: str) -> Route:
        return self._all()[job_type]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


class Dispatcher:
    def __init__(
        self,
        routes: Mapping[str, Route],
        *,
        mode: DispatchMode = "auto",
        qstash: Callable[[], Any] | None = None,
        failure_callback_url: str | None = None,
        fair: bool = True,
    ) -> None:
        if mode not in ("auto", "qstash", "sqs"):
            raise Misconfigured(f"DISPATCH_MODE must be auto, qstash or sqs, not {mode!r}")
        self.routes = routes
        self.mode = mode
        self._qstash = qstash
        self.failure_callback_url = failure_callback_url
        #: One flow-control key and one SQS message group per tenant (False: one per worker).
        self.fair = fair

    def route(self, job_type: str) -> Route:
        try:
            return self.routes[job_type]
        except KeyError:
            raise CourierError(f"no worker is deployed for job type {job_type!r}", code="unknown_job_type", status=400, retryable=False) from None

    def dispatch(self, job: Job, *, mode: DispatchMode | None = None, wake: int | None = None) -> Dispatch:
        """`mode` overrides the deployment's for one job (a caller forcing SQS, say); `wake`:
        the message wakes a waiting job (its `delay_seconds` from now), as that chain link."""
        route = self.route(job.type)
        body = JobMessage(jobId=job.job_id, type=job.type, wake=wake).to_json()
        reasons: list[str] = []
        for transport in transports(mode or self.mode):
            try:
                sent = self._publish(job, route, body, wake) if transport == "qstash" else self._send_to_sqs(job, route, body)
            except _TransportUnavailable as error:
                reasons.append(f"{TRANSPORT_NAMES[transport]}: {error}")
                logger.warning("%s could not take job %s: %s", TRANSPORT_NAMES[transport], job.job_id, error)
                continue
            return replace(sent, fallback_reason=reasons[0][:300]) if reasons else sent
        raise Unavailable("no queue could take the job (" + "; ".join(reasons) + "); it is kept, retry it later")

    def _publish(self, job: Job, route: Route, body: str, wake: int | None = None) -> Dispatch:
        from qstash.errors import QStashError

        if self._qstash is None:
            raise _TransportUnavailable("no QStash token configured")
        try:
            client_ = self._qstash()
        except CourierError as error:
            raise _TransportUnavailable(error.message) from None
        options: dict[str, Any] = {
            "url": route.url,
            "body": body,
            "content_type": "application/json",
            "retries": QSTASH_RETRIES,
            # One QStash message per dispatch of the job: a retried job is a new dispatch.
            "deduplication_id": f"{job.job_id}-wake-{wake}" if wake else f"{job.job_id}-{job.dispatches}",
            "label": job.type,
        }
        if self.failure_callback_url:
            options["failure_callback"] = self.failure_callback_url
        if route.timeout_seconds:
            options["timeout"] = route.timeout_seconds
        if route.flow_key and (route.parallelism or route.rate_per_second):
            flow: dict[str, Any] = {"key": flow_key(route, job.tenant_id) if self.fair else route.flow_key}
            if route.parallelism:
                flow["parallelism"] = route.parallelism
            if route.rate_per_second:
                flow["rate"], flow["period"] = route.rate_per_second, 1
            options["flow_control"] = flow
        if job.delay_seconds:
            options["delay"] = job.delay_seconds
        try:
            response = client_.message.publish(**options)
        except QStashError as error:
            raise _TransportUnavailable(str(error)[:300]) from None
        except Exception as error:  # httpx: connection refused, timeout, TLS
            raise _TransportUnavailable(f"{type(error).__name__}: {error}"[:300]) from None
        return Dispatch("qstash", response.message_id)

    def _send_to_sqs(self, job: Job, route: Route, body: str) -> Dispatch:
        grouped = {"MessageGroupId": job.tenant_id} if self.fair else {}
        try:
            response = client("sqs").send_message(
                QueueUrl=route.queue_url, MessageBody=body, DelaySeconds=min(job.delay_seconds, sqs_max_delay()), **grouped
            )
        except Exception as error:  # botocore errors: endpoint, throttling, permissions
            # The detail (an ARN, an account) goes to the log; the caller gets its kind.
            logger.error("SQS could not take job %s: %s", job.job_id, error)
            raise _TransportUnavailable(type(error).__name__) from None
        return Dispatch("sqs", response["MessageId"])


def flow_key(route: Route, tenant_id: str) -> str:
    """The tenant's QStash flow-control key on the route's worker (tenant ids have no dot)."""
    return f"{route.flow_key}.{tenant_id}"


def sqs_max_delay() -> int:
    """SQS's longest delay (a longer wake-up is chained); lower only for tests of the chain."""
    return min(MAX_DELAY_SECONDS, int(os.environ.get("COURIER_SQS_MAX_DELAY_SECONDS", MAX_DELAY_SECONDS)))


def transports(mode: DispatchMode) -> tuple[Transport, ...]:
    """The queues a job may go to, in order: QStash first unless the deployment or the
    caller says SQS; SQS is the fallback only in `auto` (`qstash` means QStash or a 503)."""
    return _TRANSPORTS[mode]


_TRANSPORTS: dict[DispatchMode, tuple[Transport, ...]] = {"auto": ("qstash", "sqs"), "qstash": ("qstash",), "sqs": ("sqs",)}


class _TransportUnavailable(Exception):
    pass
