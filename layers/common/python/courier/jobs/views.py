"""The jobs API's answers as models: what `GET /v1/jobs/{id}` and its siblings return, so
the OpenAPI document (and the TypeScript client generated from it) types them exactly.

Built from `Job.public_view()` and the service's additions; fields absent from a view stay
absent in the answer (the API answers with `exclude_unset`), as before these models.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

JobStatusName = Literal["queued", "running", "retrying", "waiting", "succeeded", "failed", "dead", "cancelled"]


class View(BaseModel):
    """An API answer's model (the router's too): strict, built on first use."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


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
