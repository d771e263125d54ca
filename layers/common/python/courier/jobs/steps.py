"""Durable steps: a job as named steps whose results outlive the run that made them.

A handler calls `context.step(name, fn)`, `context.sleep(name, seconds)` and
`context.wait_for_event(name, key, timeout)`. Each call is one step at one position. A
run replays the handler from the top: a step recorded as done gives its recorded result
without running again; the first step not done is where the run does work. Only the run
that holds the job's lease records a step (a transaction with the lease as its condition),
so two deliveries of one resume never both record, and a step that finished is never run
again. A step that was running when its worker died runs again: its code runs at least
once per attempt, its result is recorded exactly once (as in Lambda durable functions'
default, and Inngest's and Upstash Workflow's steps).

Sleeping, a step's retry backoff and waiting for an event end the run (`Suspend`): the job
is `waiting`, and a delayed message wakes it (QStash's delay, or SQS delays of at most
900 s, chained), so nothing is billed while it waits. The positions make a changed handler
fail clearly: a run that reaches position 3 under a new name while the job recorded
another there stops with `steps_changed`, never mixing one version's results with another's.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from courier import strict_json
from courier.errors import CourierError, InvalidInput, NonRetryable
from courier.jobs.models import utc_now

StepKind = Literal["run", "sleep", "event", "call"]
StepStatus = Literal["done", "failed", "waiting"]

#: Attempts of one step before the job fails (each after a backoff that doubles, from 1 s to 60 s).
DEFAULT_STEP_ATTEMPTS = 4
MAX_BACKOFF_SECONDS = 60.0
#: A sleep this short is slept within the run: a queue's round trip (QStash's delays are
#: whole seconds) would take longer than the sleep.
IN_RUN_SLEEP_MS = 1000
#: Steps one job may record; a loop of steps beyond it is a bug, not a workload.
MAX_STEPS = 500
#: A step's result, stored (JSON text): inline up to INLINE_STEP_BYTES, in S3 up to this.
MAX_STEP_RESULT_BYTES = 4 * 1024 * 1024
INLINE_STEP_BYTES = 32 * 1024
#: The longest sleep or event wait (7 days, QStash's longest delay), unless configured.
DEFAULT_MAX_SLEEP_SECONDS = 7 * 86400
#: An event posted before its wait began still counts if it is at most this old.
EVENT_WINDOW_SECONDS = 3600
MAX_EVENT_BYTES = 64 * 1024
EVENT_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@+=-]{0,199}$")
STEP_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/ -]{0,99}$")
#: What a wait_for_event step gives when its timeout passes without the event.
TIMED_OUT: dict[str, Any] = {"timedOut": True}
#: The event keys Courier keeps for itself (a call's answer); a tenant cannot post them.
RESERVED_EVENT_PREFIX = "courier-"
#: A call's answers that are tried again (as a step's retryable failure): none (0), a timeout, throttling, the server's trouble.
RETRYABLE_CALL_STATUSES = frozenset({0, 408, 425, 429, 500, 502, 503, 504})
#: Seconds a call's wake-up waits past the call's own timeout for QStash's callback.
CALL_GRACE_SECONDS = 30


def call_key(job_id: str, seq: int, attempt: int) -> str:
    return f"{RESERVED_EVENT_PREFIX}call.{job_id}.{seq}.{attempt}"


def job_of_call_key(key: str) -> str | None:
    parts = key.split(".")
    return parts[1] if key.startswith(RESERVED_EVENT_PREFIX + "call.") and len(parts) == 4 else None


@dataclass(frozen=True)
class CallRequest:
    """An HTTP request a step makes (`context.call`): by QStash, or in process."""

    url: str
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    timeout_seconds: float = 60.0
    #: A catalogued model deployment's (the AI router's): on no tenant's allowlist, still the network policy's.
    catalogued: bool = False


class Calls(Protocol):
    """Where a call goes: QStash, which calls the target and posts the answer to Courier
    (the Lambda returns meanwhile), or, when QStash cannot take it, this process."""

    def check(self, request: CallRequest) -> None:
        """The target is allowed (the tenant's hosts, the network policy), or InvalidInput."""
        ...

    def offload(self, request: CallRequest, key: str) -> bool:
        """Hand the call to QStash, its answer to come back as the event `key`; False if QStash cannot take it."""
        ...

    def send(self, request: CallRequest) -> dict[str, Any]:
        """Make the call here: {status, headers, body} (status 0: no answer)."""
        ...


def max_sleep_seconds() -> int:
    return int(os.environ.get("COURIER_MAX_SLEEP_SECONDS", DEFAULT_MAX_SLEEP_SECONDS))


def check_event_key(key: str) -> str:
    if not isinstance(key, str) or not EVENT_KEY.match(key):
        raise InvalidInput("an event key is 1-200 characters: letters, digits and . _ : / @ + = - (not first)",
                           code="invalid_event_key")
    if key.startswith(RESERVED_EVENT_PREFIX):
        raise InvalidInput(f"event keys that start with {RESERVED_EVENT_PREFIX!r} are Courier's own", code="invalid_event_key")
    return key


@dataclass
class StepRecord:
    """One step as the job store keeps it (an item beside the job's)."""

    seq: int
    name: str
    kind: StepKind
    status: StepStatus
    attempts: int = 0
    result: Any = None
    result_ref: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    started_at: str | None = None
    finished_at: str | None = None
    #: A sleep's, a backoff's or an event wait's end (epoch ms).
    until_ms: int | None = None
    #: An event step's key, and when its wait began (events older than the window are not its).
    key: str | None = None
    since_ms: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StepRecord:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def view(self) -> dict[str, Any]:
        """What `GET /v1/jobs/{id}` lists of the step."""
        shown: dict[str, Any] = {"name": self.name, "kind": self.kind, "status": self.status, "attempts": self.attempts}
        for name, value in (("startedAt", self.started_at), ("finishedAt", self.finished_at), ("error", self.error)):
            if value is not None:
                shown[name] = value
        if self.until_ms is not None and self.status != "done":
            shown["until"] = iso(self.until_ms)
        return shown


@dataclass
class Suspend(Exception):
    """The run ends here and the job waits: for `until_ms`, or for the event `key` (or its timeout)."""

    kind: Literal["sleep", "event", "retry", "call"]
    step: str
    until_ms: int
    key: str | None = None
    error: dict[str, Any] | None = None

    def waiting_for(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"kind": self.kind, "step": self.step, "until": iso(self.until_ms)}
        if self.key is not None:
            shown["key"] = self.key
        if self.error is not None:
            shown["error"] = self.error
        return shown


class StepsMisused(NonRetryable):
    """The handler's steps do not match the job's record, or break a rule of steps: never
    an answer to put in a result (code that catches CourierError around a step re-raises it)."""


class StepLost(Exception):
    """The run lost the job's lease while recording a step: a newer run owns the job."""


class StepLog(Protocol):
    """Where a run reads and records its job's steps (the job store)."""

    def load(self) -> list[StepRecord]: ...

    def record_step(self, record: StepRecord) -> bool:
        """Record under the run's lease; False when the lease is lost."""
        ...

    def event(self, key: str) -> tuple[Any, int] | None:
        """The tenant's last event of `key`: (data, posted at, epoch ms), or None."""
        ...


@dataclass
class StepPayloads:
    """Where large step results go (S3 beside the job's results)."""

    bucket: str | None
    prefix: str

    def store(self, record: StepRecord, value: Any) -> None:
        text = strict_json.dumps(value, separators=(",", ":"))
        size = len(text.encode())
        if size > MAX_STEP_RESULT_BYTES:
            raise NonRetryable(f"step {record.name!r} returned {size} bytes; a step's result is at most {MAX_STEP_RESULT_BYTES}"
                               " (store large data in S3 and return its key)", code="step_result_too_large")
        if size <= INLINE_STEP_BYTES:
            record.result, record.result_ref = value, None
            return
        if not self.bucket:
            raise NonRetryable("a step's result is too large to keep inline and no bucket is configured", code="step_result_too_large")
        from courier.aws import client
        from courier.s3_errors import s3_outcomes

        key = f"{self.prefix}steps/{record.seq:04d}.json"
        with s3_outcomes("the step's stored result"):
            client("s3").put_object(Bucket=self.bucket, Key=key, Body=text.encode(), ContentType="application/json")
        record.result, record.result_ref = None, {"bucket": self.bucket, "key": key, "size": size}

    @staticmethod
    def load(record: StepRecord) -> Any:
        if record.result_ref is None:
            return record.result
        return _load_json(record.result_ref, f"step {record.name!r}'s stored result")


def _load_json(ref: dict[str, Any], what: str) -> Any:
    import json

    from courier.aws import client
    from courier.s3_errors import s3_outcomes

    gone = CourierError(f"{what} is gone", code="step_result_missing", retryable=False)
    with s3_outcomes(what, missing=gone):
        body = client("s3").get_object(Bucket=ref["bucket"], Key=ref["key"])["Body"].read()
    return json.loads(body)


@dataclass
class Steps:
    """One run's steps: the recorded ones by position (read on the first step, so a job
    without steps costs no read), and the log it records new ones in."""

    log: StepLog
    payloads: StepPayloads
    calls: Calls | None = None
    job_id: str = ""
    #: The first position: a continuation's steps (fan-in) are numbered apart from its handler's.
    first: int = 0
    clock: Callable[[], float] = time.time
    #: Within a run step's function: which attempt of the step this is (1 first).
    attempt: int = 1
    _recorded: dict[int, StepRecord] | None = None
    _next: int = 0
    _names: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._next = self.first

    @property
    def recorded(self) -> dict[int, StepRecord]:
        if self._recorded is None:
            self._recorded = {r.seq: r for r in self.log.load()}
        return self._recorded

    def _position(self, name: str, kind: StepKind) -> tuple[int, StepRecord | None]:
        if not isinstance(name, str) or not STEP_NAME.match(name):
            raise StepsMisused(f"a step name is 1-100 letters, digits, spaces and . _ : / - (got {name!r})", code="invalid_step_name")
        if name in self._names:
            raise StepsMisused(f"step name {name!r} is used twice in one run: name each step uniquely "
                               "(in a loop, add the index)", code="step_name_reused")
        if self._next - self.first >= MAX_STEPS:
            raise StepsMisused(f"a job records at most {MAX_STEPS} steps", code="too_many_steps")
        seq, self._next = self._next, self._next + 1
        self._names.add(name)
        record = self.recorded.get(seq)
        if record is not None and (record.name != name or record.kind != kind):
            raise StepsMisused(
                f"the handler's steps changed since this job recorded them: step {seq + 1} was {record.kind} {record.name!r}, "
                f"now {kind} {name!r}; retry the job with fromStart to run it anew", code="steps_changed")
        return seq, record

    def _record(self, record: StepRecord) -> None:
        if not self.log.record_step(record):
            raise StepLost()
        self.recorded[record.seq] = record

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    # --- the three kinds --------------------------------------------------------------
    def run(self, name: str, fn: Callable[..., Any], *args: Any, max_attempts: int = DEFAULT_STEP_ATTEMPTS) -> Any:
        seq, record = self._position(name, "run")
        if record is not None and record.status == "done":
            return self.payloads.load(record)
        # A failed record at its limit means the job was retried (POST /retry): it starts anew.
        attempts = record.attempts if record is not None and record.status == "failed" and record.attempts < max_attempts else 0
        started = utc_now()
        self.attempt = attempts + 1
        try:
            value = fn(*args)
        except Suspend:
            raise
        except Exception as raised:
            error = raised if isinstance(raised, CourierError) else CourierError(f"unexpected {type(raised).__name__}: {raised}"[:300],
                                                                               code="internal_error")
            said = {"code": error.code, "message": error.message[:2000], "retryable": error.retryable}
            failed = StepRecord(seq, name, "run", "failed", attempts + 1, error=said, started_at=started, finished_at=utc_now())
            self._record(failed)
            if not error.retryable:
                raise error from raised
            if failed.attempts >= max_attempts:
                raise NonRetryable(f"step {name!r} failed {failed.attempts} times; the last: {error.message}",
                                   code="step_failed") from raised
            backoff = error.retry_after if error.retry_after is not None else min(MAX_BACKOFF_SECONDS, 2.0 ** (failed.attempts - 1))
            raise Suspend("retry", name, self.now_ms() + int(backoff * 1000), error=said) from raised
        done = StepRecord(seq, name, "run", "done", attempts + 1, started_at=started, finished_at=utc_now())
        self.payloads.store(done, strict_json.finite(value))
        self._record(done)
        return value

    def sleep_until(self, name: str, until_ms: int) -> None:
        seq, record = self._position(name, "sleep")
        if record is not None and record.status == "done":
            return
        now = self.now_ms()
        if record is None:
            limit = max_sleep_seconds()
            if until_ms - now > limit * 1000:
                raise NonRetryable(f"step {name!r} sleeps {(until_ms - now) / 1000:.0f} s; at most {limit} s "
                                   "(COURIER_MAX_SLEEP_SECONDS)", code="sleep_too_long")
            record = StepRecord(seq, name, "sleep", "waiting", 1, started_at=utc_now(), until_ms=until_ms)
            if 0 < until_ms - now <= IN_RUN_SLEEP_MS:
                time.sleep((until_ms - now) / 1000)
                now = self.now_ms()
            elif until_ms > now:
                self._record(record)
        if record.until_ms is not None and record.until_ms > now:
            raise Suspend("sleep", name, record.until_ms)
        record.status, record.finished_at = "done", utc_now()
        self._record(record)

    def wait_for_event(self, name: str, key: str, timeout_seconds: float) -> Any:
        seq, record = self._position(name, "event")
        if record is not None and record.status == "done":
            return self.payloads.load(record)
        now = self.now_ms()
        if record is None:
            check_event_key(key)
            limit = max_sleep_seconds()
            if not 0 < timeout_seconds <= limit:
                raise NonRetryable(f"step {name!r} waits {timeout_seconds:g} s; between 0 and {limit} s", code="wait_too_long")
            record = StepRecord(seq, name, "event", "waiting", 1, started_at=utc_now(), key=key,
                                until_ms=now + int(timeout_seconds * 1000), since_ms=now - EVENT_WINDOW_SECONDS * 1000)
        found = self.log.event(key)
        if found is not None and found[1] >= (record.since_ms or 0):
            record.status, record.finished_at = "done", utc_now()
            self.payloads.store(record, found[0])
            self._record(record)
            return found[0]
        if record.until_ms is not None and record.until_ms <= now:
            record.status, record.finished_at = "done", utc_now()
            self.payloads.store(record, TIMED_OUT)
            self._record(record)
            return dict(TIMED_OUT)
        if seq not in self.recorded:
            self._record(record)
        raise Suspend("event", name, record.until_ms or now, key=key)


    def call(self, name: str, request: CallRequest, *, max_attempts: int = DEFAULT_STEP_ATTEMPTS,
             on_failure: Literal["fail", "answer"] = "fail") -> dict[str, Any]:
        """The answer to `request`, made once: by QStash while no Lambda waits (the run ends
        and the answer wakes the job), or in process when QStash cannot take it. Throttling,
        timeouts and 5xx retry the step after a backoff; any other answer is the result."""
        seq, record = self._position(name, "call")
        if record is not None and record.status == "done":
            return self.payloads.load(record)  # type: ignore[no-any-return]
        if self.calls is None:
            raise NonRetryable("calls need the job runner's call settings", code="calls_unavailable")
        now = self.now_ms()
        if record is not None and record.status == "waiting" and record.key is not None:
            found = self.log.event(record.key)
            if found is not None:
                return self._answered(record, dict(found[0]), max_attempts, on_failure)
            if record.until_ms is not None and record.until_ms > now:
                raise Suspend("call", name, record.until_ms, key=record.key)
            return self._answered(record, {"status": 0, "headers": {}, "body": "no answer within the call's timeout"}, max_attempts,
                                  on_failure)
        attempt = (record.attempts if record is not None and record.attempts < max_attempts else 0) + 1
        self.calls.check(request)
        key = call_key(self.job_id, seq, attempt)
        started = utc_now()
        if self.calls.offload(request, key):
            until = now + int((request.timeout_seconds + CALL_GRACE_SECONDS) * 1000)
            waiting = StepRecord(seq, name, "call", "waiting", attempt, started_at=started, key=key, until_ms=until, since_ms=now)
            self._record(waiting)
            raise Suspend("call", name, until, key=key)
        here = StepRecord(seq, name, "call", "waiting", attempt, started_at=started)
        return self._answered(here, self.calls.send(request), max_attempts, on_failure)

    def _answered(self, record: StepRecord, answer: dict[str, Any], max_attempts: int,
                  on_failure: Literal["fail", "answer"]) -> dict[str, Any]:
        """A retryable answer retries the step (after its backoff) until its attempts are
        used; then it fails the job, or with `on_failure="answer"` is the result (the
        router decides what a 503 means)."""
        record.finished_at = utc_now()
        if answer["status"] in RETRYABLE_CALL_STATUSES and not (on_failure == "answer" and record.attempts >= max_attempts):
            record.status, record.key, record.until_ms = "failed", None, None
            said = {"code": "call_unavailable", "message": f"{answer['status'] or 'no answer'}: {str(answer.get('body'))[:300]}",
                    "retryable": True}
            record.error = said
            self._record(record)
            if record.attempts >= max_attempts:
                raise NonRetryable(f"call {record.name!r} failed {record.attempts} times; the last: {said['message']}", code="step_failed")
            backoff = min(MAX_BACKOFF_SECONDS, 2.0 ** (record.attempts - 1))
            raise Suspend("retry", record.name, self.now_ms() + int(backoff * 1000), error=said)
        record.status, record.error = "done", None
        self.payloads.store(record, answer)
        self._record(record)
        return answer


def iso(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def until_ms_of(when: datetime | str) -> int:
    """`sleep_until`'s moment: an aware datetime or ISO 8601 text with its zone."""
    moment = datetime.fromisoformat(when.replace("Z", "+00:00")) if isinstance(when, str) else when
    if moment.tzinfo is None:
        raise NonRetryable("sleep_until needs a moment with its time zone (UTC: ...Z)", code="invalid_sleep")
    return int(moment.timestamp() * 1000)
