"""Runtime settings from the environment that CDK (or the local stack) sets: one declared
model per function, validated once, the way the Powertools handler cookbook does it
(a pydantic model read from `os.environ`). A bad or missing value is a Misconfigured
error naming the variable, at cold start, not a surprise in the middle of a job.

Which variables each function gets is infra/environment.py's; a test compares every
function's template variables with the fields of its model here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from courier.errors import Misconfigured, problems

S = TypeVar("S", bound="EnvSettings")
DispatchMode = Literal["auto", "qstash", "sqs"]


class EnvSettings(BaseModel):
    # Built on first use: a function validates one of these models, not all of them.
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True, defer_build=True)

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        """CDK writes optional variables as empty strings; they mean "not set"."""
        return None if value == "" else value

    @classmethod
    def from_env(cls: type[S], environ: Mapping[str, str] | None = None) -> S:
        values = {k: v for k, v in (os.environ if environ is None else environ).items() if v != ""}
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            raise Misconfigured(f"invalid environment for {cls.__name__}: {problems(error.errors(), root='environment')}") from None

    @classmethod
    def variables(cls) -> frozenset[str]:
        """The environment variables this model reads."""
        return frozenset(f.alias or name for name, f in cls.model_fields.items())


class CommonSettings(EnvSettings):
    """What every function gets: its stage, the jobs table and the bucket."""

    stage: str = Field("dev", alias="COURIER_STAGE")
    table_name: str = Field("", alias="TABLE_NAME")
    bucket_name: str | None = Field(None, alias="BUCKET_NAME")


class QStashSettings(EnvSettings):
    """QStash's endpoint and where its token and signing keys are (the secret, or the
    QSTASH_* variables directly: the local stack, tests)."""

    qstash_url: str | None = Field(None, alias="QSTASH_URL")
    qstash_secret_ref: str | None = Field(None, alias="QSTASH_SECRET_REF")
    qstash_token: str | None = Field(None, alias="QSTASH_TOKEN")
    current_signing_key: str | None = Field(None, alias="QSTASH_CURRENT_SIGNING_KEY")
    next_signing_key: str | None = Field(None, alias="QSTASH_NEXT_SIGNING_KEY")


class ModelSettings(EnvSettings):
    """For the functions whose jobs call AI models (`Worker.calls_models`)."""

    model_keys_secret_ref: str | None = Field(None, alias="MODEL_KEYS_SECRET_REF")
    ai_foundry_endpoint: str | None = Field(None, alias="AZURE_AI_FOUNDRY_ENDPOINT")
    ai_catalog_parameter: str | None = Field(None, alias="COURIER_AI_CATALOG_PARAMETER")


class DispatchSettings(EnvSettings):
    """Where each job type runs, for the functions that send jobs: the jobs API, and every
    worker (a run may start children; a child's end may send its parent's continuation)."""

    dispatch_mode: DispatchMode = Field("auto", alias="DISPATCH_MODE")
    #: Job type -> route (infra.environment.job_type_routes), as JSON...
    job_types_json: str = Field("{}", alias="COURIER_JOB_TYPES")
    #: ...or the SSM parameter holding it (workers: their own URLs are in it, and a function
    #: cannot name its own URL in its environment without a dependency cycle).
    job_types_parameter: str | None = Field(None, alias="COURIER_JOB_TYPES_PARAMETER")
    public_api_url: str = Field("", alias="PUBLIC_API_URL")
    #: Tenants share each worker fairly: a flow-control key and an SQS message group per
    #: tenant (courier.jobs.dispatch). `false` queues every tenant's jobs as one line.
    fair_share: bool = Field(True, alias="COURIER_FAIR_SHARE")

    @field_validator("public_api_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def sends_jobs(self) -> bool:
        return self.job_types_json not in ("", "{}") or bool(self.job_types_parameter)


class WorkerSettings(CommonSettings, QStashSettings, DispatchSettings):
    """A queued worker (the runtime in courier.adapters.worker)."""

    name: str = Field("worker", alias="WORKER_NAME")
    job_types: tuple[str, ...] = Field((), alias="WORKER_JOB_TYPES")
    #: Public URL given directly (local stack), else read from this SSM parameter.
    public_url: str | None = Field(None, alias="WORKER_PUBLIC_URL")
    public_url_parameter: str | None = Field(None, alias="WORKER_PUBLIC_URL_PARAMETER")
    #: Its own SQS queue: a record that meets its job running elsewhere comes back when that
    #: run's lease ends, not after the queue's visibility timeout (6 x the function's).
    queue_url: str | None = Field(None, alias="WORKER_QUEUE_URL")
    max_receive_count: int = Field(5, ge=1, alias="WORKER_MAX_RECEIVE_COUNT")
    timeout_seconds: float = Field(900.0, gt=0, alias="WORKER_TIMEOUT_SECONDS")
    #: How long a claim holds a job: a little over the function's timeout (the default),
    #: so a worker that died mid-job frees it soon after Lambda would have stopped it anyway.
    lease_seconds: float = Field(0.0, ge=0, alias="JOB_LEASE_SECONDS")

    @field_validator("job_types", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        return tuple(p.strip() for p in value.split(",") if p.strip()) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _lease_outlives_the_function(self) -> WorkerSettings:
        if not self.lease_seconds:
            object.__setattr__(self, "lease_seconds", self.timeout_seconds + 30)
        return self


class ModelWorkerSettings(WorkerSettings, ModelSettings):
    """A worker whose jobs call models: video_processor, ai_router (which also serves the
    routing API, with API keys in the table)."""


class JobsApiSettings(CommonSettings, QStashSettings, DispatchSettings):
    """functions/jobs_api."""

    #: The KMS key that seals inbound webhook sources' secrets (courier.inbound.sealing).
    sources_key: str = Field("", alias="COURIER_SOURCES_KEY")

