"""The jobs API's answers as models: what `GET /v1/jobs/{id}` and its siblings return, so
the OpenAPI document (and the TypeScript client generated from it) types them exactly.

`JobView` is the job's one public shape: `JobView.of(job)` reads each of its fields from
the job's attribute of the same name (snake_case), so a field is made public by adding it
here, once. Empty optional fields stay absent from the answer (the API answers with
`exclude_unset`).
"""

from __future__ import annotations

import re
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal

from courier.views import View

if TYPE_CHECKING:
    from courier.jobs.models import Job

JobStatusName = Literal["queued", "running", "retrying", "waiting", "succeeded", "failed", "dead", "cancelled"]


class JobErrorView(View):
    code: str
    message: str
    retryable: bool


class ProgressView(View):
    stage: str
    fraction: float
    message: str | None = None
    updatedAt: str


class ChildView(View):
    jobId: str
    type: str
    status: JobStatusName


class InputRefView(View):
    key: str
    size: int


class StepView(View):
    name: str
    kind: Literal["run", "sleep", "event", "call"]
    status: Literal["done", "failed", "waiting"]
    attempts: int
    startedAt: str | None = None
    finishedAt: str | None = None
    until: str | None = None
    error: JobErrorView | None = None


class WaitingForView(View):
    """What a waiting job of steps waits for: a sleep's end, a step's retry after its
    backoff, an event (`POST /v1/events`) until its timeout, or a call's answer."""

    kind: Literal["sleep", "retry", "event", "call"]
    step: str
    until: str
    key: str | None = None
    error: JobErrorView | None = None


class JobView(View):
    jobId: str
    type: str
    status: JobStatusName
    input: dict[str, Any]
    attempts: int
    transport: Literal["qstash", "sqs"] | None
    messageId: str | None
    createdAt: str
    updatedAt: str
    statusUrl: str
    result: dict[str, Any] | None = None
    #: A presigned GET of a result too large to inline (15 minutes).
    resultUrl: str | None = None
    error: JobErrorView | None = None
    callbackUrl: str | None = None
    idempotencyKey: str | None = None
    startedAt: str | None = None
    finishedAt: str | None = None
    lastResponse: dict[str, Any] | None = None
    callbackDelivery: dict[str, Any] | None = None
    fallbackReason: str | None = None
    progress: ProgressView | None = None
    inputRef: InputRefView | None = None
    scheduleId: str | None = None
    parentId: str | None = None
    childrenPending: int | None = None
    children: list[ChildView] | None = None
    #: A job of durable steps: each step so far (`GET /v1/jobs/{id}` only), and what it waits for.
    steps: list[StepView] | None = None
    waitingFor: WaitingForView | None = None

    @classmethod
    def of(cls, job: Job, **computed: Any) -> dict[str, Any]:
        """The job as a tenant sees it: the contract's fields, no internals (its `input` as
        stored; the service redacts it). `computed`: the fields the job does not hold
        (`statusUrl`, `resultUrl`, `children`)."""
        view: dict[str, Any] = {}
        for name, declared in cls.model_fields.items():
            if name in computed or name in COMPUTED:
                value = computed.get(name)
            else:
                value = _public(getattr(job, _snake(name), None), declared.annotation)
            if value is not None or (declared.is_required() and name not in COMPUTED):
                view[name] = value
        return view


#: JobView's fields that the service computes from more than the job (links, the children's states).
COMPUTED = frozenset({"statusUrl", "resultUrl", "children", "steps"})


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _public(value: Any, annotation: Any) -> Any:
    """A job attribute in its view's form: an enum's value, a record's dict, and a nested
    view's fields only (an input's location without its bucket)."""
    if isinstance(value, Enum):
        return value.value
    if hasattr(value, "to_dict"):
        return value.to_dict()
    nested = next((a for a in getattr(annotation, "__args__", ()) if isinstance(a, type) and issubclass(a, View)), None)
    if nested is not None and isinstance(value, dict):
        return {k: v for k, v in value.items() if k in nested.model_fields}
    return value


class JobList(View):
    jobs: list[JobView]
    cursor: str | None


class UploadTicket(View):
    uploadUrl: str
    method: Literal["PUT"]
    headers: dict[str, str]
    key: str
    expiresAt: str


class ScheduleRun(View):
    jobId: str | None
    firedAt: str
    messageId: str
    status: str
    error: dict[str, Any] | None = None


class ScheduleView(View):
    scheduleId: str
    cron: str
    type: str
    input: dict[str, Any]
    paused: bool
    nextRunAt: str | None
    runs: int
    createdAt: str
    updatedAt: str
    timezone: str | None = None
    callbackUrl: str | None = None
    lastRuns: list[ScheduleRun] | None = None


class ScheduleList(View):
    schedules: list[ScheduleView]


class AllowedHostsView(View):
    hosts: list[str]


class CallerView(View):
    """Who an API key acts as: a CLI or console names the tenant it shows."""

    tenantId: str


class JobFile(View):
    key: str
    url: str


class JobFiles(View):
    """Short-lived GETs of what a job stored beside its result (a video's keyframes)."""

    files: list[JobFile]
    expiresAt: str


class TypeUsage(View):
    jobs: int
    computeSeconds: float


class UsageView(View):
    month: str
    jobs: int
    computeSeconds: float
    byType: dict[str, TypeUsage]
