"""Runtime settings from the environment that CDK (or the local stack) sets."""

from __future__ import annotations

import os
from dataclasses import dataclass, field


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
    qstash_secret_ref: str | None = field(default=None)

    @classmethod
    def from_env(cls) -> "WorkerSettings":
        env = os.environ
        return cls(
            name=env.get("WORKER_NAME", "worker"),
            job_types=_split(env.get("WORKER_JOB_TYPES", "")),
            public_url=env.get("WORKER_PUBLIC_URL") or None,
            public_url_parameter=env.get("WORKER_PUBLIC_URL_PARAMETER") or None,
            max_receive_count=int(env.get("WORKER_MAX_RECEIVE_COUNT", "5")),
            qstash_secret_ref=env.get("QSTASH_SECRET_REF") or None,
        )
