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

A tenant's own limits (courier.jobs.limits), read at most every few seconds, shape each
dispatch: on QStash its key's parallelism (its share of the worker while other tenants are
busy too: courier.jobs.fair_share), rate and period; on SQS its rate as each message's delay
(courier.jobs.pacing), and its concurrency is held by slots where the worker runs it
(courier.jobs.slots). Over its rate a job waits; it is never refused. A worker whose intake
an operator paused (courier.jobs.intake) gets its jobs by SQS, where they wait.
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
from courier.jobs.fair_share import FairShare
from courier.jobs.limits import TenantLimits, WorkerLimit
from courier.jobs.messages import JobMessage
from courier.jobs.models import Job
from courier.jobs.pacing import RatePacer
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
        limits: Callable[[str], TenantLimits] | None = None,
        pacer: RatePacer | None = None,
        paused: Callable[[str], bool] | None = None,
        share_out: bool = True,
    ) -> None:
        """`limits`: a tenant's limits (cached); `pacer`: SQS's rate per tenant. Both apply
        only with `fair`, where each tenant has a line of its own. `paused`: whether a
        worker's intake is paused (courier.jobs.intake): its jobs then wait in SQS.
        `share_out`: the worker's concurrency shared between its busy tenants' QStash keys
        (courier.jobs.fair_share), so many busy tenants never exceed it."""
        if mode not in ("auto", "qstash", "sqs"):
            raise Misconfigured(f"DISPATCH_MODE must be auto, qstash or sqs, not {mode!r}")
        self.routes = routes
        self.mode = mode
        self._qstash = qstash
        self.failure_callback_url = failure_callback_url
        #: One flow-control key and one SQS message group per tenant (False: one per worker).
        self.fair = fair
        self.limits = limits
        self.pacer = pacer
        self.paused = paused
        self.fair_share = FairShare(qstash) if fair and share_out and qstash else None

    def route(self, job_type: str) -> Route:
        try:
            return self.routes[job_type]
        except KeyError:
            raise CourierError(f"no worker is deployed for job type {job_type!r}", code="unknown_job_type", status=400, retryable=False) from None

    def limit(self, route: Route, tenant_id: str) -> WorkerLimit:
        """The tenant's limits on the route's worker: its own where set, else the catalogue's."""
        default = WorkerLimit(concurrency=route.parallelism, rate=route.rate_per_second, period=1 if route.rate_per_second else None)
        if not (self.fair and self.limits):
            return default
        try:
            return self.limits(tenant_id).on(route.worker, default)
        except Exception as error:  # the table unreachable: the job still goes, with the catalogue's limits
            logger.warning("tenant %s's limits could not be read (%s); the catalogue's apply", tenant_id, error)
            return default

    def limits_in_force(self, tenant_id: str) -> dict[str, WorkerLimit]:
        """Each deployed worker's limits for the tenant, as its next dispatch applies them."""
        by_worker = {route.worker: route for route in self.routes.values()}
        return {worker: self.limit(route, tenant_id) for worker, route in sorted(by_worker.items())}

    def dispatch(self, job: Job, *, mode: DispatchMode | None = None, wake: int | None = None, deferred: int | None = None) -> Dispatch:
        """`mode` overrides the deployment's for one job (a caller forcing SQS, say); `wake`:
        the message wakes a waiting job (its `delay_seconds` from now), as that chain link;
        `deferred`: the message is sent again because its tenant had no free slot."""
        route = self.route(job.type)
        body = JobMessage(jobId=job.job_id, type=job.type, wake=wake, tenant=job.tenant_id, deferred=deferred).to_json()
        reasons: list[str] = []
        chosen = transports(mode or self.mode)
        if "sqs" in chosen and self._paused(route.worker):
            if "qstash" in chosen:
                reasons = [f"QStash: the {route.worker} worker's intake is paused; the job waits in its SQS queue"]
            chosen = ("sqs",)
        for transport in chosen:
            try:
                sent = self._publish(job, route, body, wake, deferred) if transport == "qstash" else self._send_to_sqs(job, route, body, wake)
            except _TransportUnavailable as error:
                reasons.append(f"{TRANSPORT_NAMES[transport]}: {error}")
                logger.warning("%s could not take job %s: %s", TRANSPORT_NAMES[transport], job.job_id, error)
                continue
            return replace(sent, fallback_reason=reasons[0][:300]) if reasons else sent
        raise Unavailable("no queue could take the job (" + "; ".join(reasons) + "); it is kept, retry it later")

    def _share(self, route: Route, tenant_id: str, concurrency: int) -> int:
        """The tenant's share of the worker while others are busy too; its own limit when
        the shares cannot be read (QStash's management API down: the publish may still go)."""
        if self.fair_share is None or not (route.parallelism and route.flow_key):
            return concurrency
        try:
            return self.fair_share.share(route.flow_key, route.parallelism, tenant_id, self._own(route))
        except Exception as error:
            logger.warning("the shares of %s could not be set: %s", route.worker, error)
            return concurrency

    def _own(self, route: Route) -> Callable[[str], int | None]:
        return lambda tenant_id: self.limit(route, tenant_id).concurrency

    def delivered(self, job_type: str) -> None:
        """After a QStash delivery of the type's worker: its busy tenants' shares set again
        when due, so a tenant whose line emptied gives its share back. Never raises."""
        if self.fair_share is None:
            return
        try:
            route = self.routes[job_type]
            if route.flow_key and route.parallelism:
                self.fair_share.tick(route.flow_key, route.parallelism, self._own(route))
        except Exception as error:  # no route here, QStash unreachable: the next one tries again
            logger.warning("the shares of %s's worker could not be set: %s", job_type, error)

    def _paused(self, worker: str) -> bool:
        try:
            return bool(self.paused and self.paused(worker))
        except Exception as error:  # the table unreachable: as if not paused (QStash's paused keys still hold)
            logger.warning("whether %s is paused could not be read: %s", worker, error)
            return False

    def _publish(self, job: Job, route: Route, body: str, wake: int | None = None, deferred: int | None = None) -> Dispatch:
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
            "deduplication_id": (f"{job.job_id}-wake-{wake}" if wake else f"{job.job_id}-{job.dispatches}") + (f"-d{deferred}" if deferred else ""),
            "label": job.type,
        }
        if self.failure_callback_url:
            options["failure_callback"] = self.failure_callback_url
        if route.timeout_seconds:
            options["timeout"] = route.timeout_seconds
        limit = self.limit(route, job.tenant_id)
        if route.flow_key and (limit.concurrency or limit.rate):
            flow: dict[str, Any] = {"key": flow_key(route, job.tenant_id) if self.fair else route.flow_key}
            if limit.concurrency:
                flow["parallelism"] = self._share(route, job.tenant_id, limit.concurrency)
            if limit.rate:
                flow["rate"], flow["period"] = limit.rate, limit.period or 1
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

    def _send_to_sqs(self, job: Job, route: Route, body: str, wake: int | None = None) -> Dispatch:
        grouped = {"MessageGroupId": job.tenant_id} if self.fair else {}
        delay = job.delay_seconds
        try:
            limit = self.limit(route, job.tenant_id)
            if limit.rate and self.pacer and not (delay or wake):  # a delayed message starts when it says
                delay = self.pacer.delay(job.tenant_id, route.worker, limit.rate, limit.period or 1)
            response = client("sqs").send_message(
                QueueUrl=route.queue_url, MessageBody=body, DelaySeconds=min(delay, sqs_max_delay()), **grouped
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
