"""Runtime settings from the environment that CDK (or the local stack) sets."""

from __future__ import annotations

import os
from dataclasses import dataclass


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


@dataclass(frozen=True)
class WorkerSettings:
    name: str
    job_types: tuple[str, ...]
    #: Public URL given directly (local stack), else read from this SSM parameter.
    public_url: str | None
    public_url_parameter: str | None
    max_receive_count: int
    table_name: str
    bucket_name: str | None
    timeout_seconds: float
    #: How long a claim holds a job: a little over the function's timeout, so a worker
    #: that died mid-job frees it soon after Lambda would have stopped it anyway.
    lease_seconds: float

    @classmethod
    def from_env(cls) -> "WorkerSettings":
        env = os.environ
        timeout = float(env.get("WORKER_TIMEOUT_SECONDS", "900"))
        return cls(
            name=env.get("WORKER_NAME", "worker"),
            job_types=_split(env.get("WORKER_JOB_TYPES", "")),
            public_url=env.get("WORKER_PUBLIC_URL") or None,
            public_url_parameter=env.get("WORKER_PUBLIC_URL_PARAMETER") or None,
            max_receive_count=int(env.get("WORKER_MAX_RECEIVE_COUNT", "5")),
            table_name=env.get("TABLE_NAME", ""),
            bucket_name=env.get("BUCKET_NAME") or None,
            timeout_seconds=timeout,
            lease_seconds=float(env.get("JOB_LEASE_SECONDS", str(timeout + 30))),
        )


@dataclass(frozen=True)
class ApiSettings:
    table_name: str
    bucket_name: str | None
    dispatch_mode: str
    job_types_json: str
    public_api_url: str

    @classmethod
    def from_env(cls) -> "ApiSettings":
        env = os.environ
        return cls(
            table_name=env.get("TABLE_NAME", ""),
            bucket_name=env.get("BUCKET_NAME") or None,
            dispatch_mode=env.get("DISPATCH_MODE", "auto"),
            job_types_json=env.get("COURIER_JOB_TYPES", "{}"),
            public_api_url=env.get("PUBLIC_API_URL", "").rstrip("/"),
        )
