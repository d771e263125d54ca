"""What the local stack is made of and what each function's environment holds: the
same configuration (infra.config) and the same variables CDK sets, with local values
(a test compares the variable names with the synthesized template's).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devstack.aws_resources import LocalResources
from devstack.qstash.signing import DEV_CURRENT_SIGNING_KEY, DEV_NEXT_SIGNING_KEY, DEV_TOKEN
from infra.config import MAX_RECEIVE_COUNT, MODEL_KEY_USERS, CourierConfig

STAGE = "local"
POWERTOOLS_NAMESPACE = "Courier"
#: Local credentials for moto: any value works; never real ones.
LOCAL_AWS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}
#: Model settings passed through from the developer's shell, for a real or local model.
MODEL_PASSTHROUGH = ("AZURE_AI_FOUNDRY_ENDPOINT", "COURIER_AI_CATALOG")


def local_config() -> CourierConfig:
    return CourierConfig.from_context({"stage": STAGE}.get)


@dataclass(frozen=True)
class DevSettings:
    """Where the stack keeps its state and which ports it takes (from `port_base` up)."""

    directory: Path = Path(".devstack")
    port_base: int = 4560
    #: Multiplies the QStash server's retry delays (1.0 = QStash's own timing).
    backoff_scale: float = 1.0
    #: Local-only overrides: a shorter job lease and visibility timeout (tests).
    lease_seconds: float | None = None
    visibility_seconds: int | None = None
    config: CourierConfig = field(default_factory=local_config)

    @property
    def api_port(self) -> int:
        return self.port_base

    @property
    def qstash_port(self) -> int:
        return self.port_base + 1

    @property
    def aws_port(self) -> int:
        return self.port_base + 6

    def function_url_port(self, worker: str) -> int:
        return self.port_base + 10 + [w.name for w in self.config.workers].index(worker)

    def host_port(self, function: str) -> int:
        return self.port_base + 20 + [f.name for f in self.config.functions].index(function)

    def url(self, port: int) -> str:
        return f"http://127.0.0.1:{port}"

    @property
    def aws_url(self) -> str:
        return self.url(self.aws_port)

    @property
    def qstash_url(self) -> str:
        return self.url(self.qstash_port)

    @property
    def api_url(self) -> str:
        return self.url(self.api_port)

    def function_url(self, worker: str) -> str:
        return self.url(self.function_url_port(worker)) + "/"

    @property
    def logs(self) -> Path:
        return self.directory / "logs"

    @property
    def state_file(self) -> Path:
        return self.directory / "state.json"

    @property
    def api_key_file(self) -> Path:
        return self.directory / "demo-api-key"

    def to_args(self) -> list[str]:
        args = ["--dir", str(self.directory), "--port-base", str(self.port_base), "--backoff-scale", str(self.backoff_scale)]
        if self.lease_seconds is not None:
            args += ["--lease-seconds", str(self.lease_seconds)]
        if self.visibility_seconds is not None:
            args += ["--visibility-seconds", str(self.visibility_seconds)]
        return args


def aws_environment(settings: DevSettings) -> dict[str, str]:
    return {**LOCAL_AWS, "AWS_ENDPOINT_URL": settings.aws_url}


def function_environment(settings: DevSettings, name: str, resources: LocalResources) -> dict[str, str]:
    """The variables CDK gives function `name` (CourierFunction, QueuedWorker and the
    stack), with local values; plus the local-only ones the README lists."""
    config = settings.config
    env = {
        "POWERTOOLS_SERVICE_NAME": name,
        "POWERTOOLS_METRICS_NAMESPACE": POWERTOOLS_NAMESPACE,
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "COURIER_STAGE": config.stage,
        "TABLE_NAME": resources.table_name,
        "BUCKET_NAME": resources.bucket_name,
        "QSTASH_URL": settings.qstash_url,
        "QSTASH_SECRET_REF": f"secretsmanager:{config.qstash_secret}",
    }
    workers = {w.name: w for w in config.workers}
    if name in workers:
        spec = workers[name]
        env.update(
            {
                "WORKER_NAME": name,
                "WORKER_JOB_TYPES": ",".join(spec.job_types),
                "WORKER_PUBLIC_URL_PARAMETER": config.worker_url_parameter(name),
                "WORKER_MAX_RECEIVE_COUNT": str(MAX_RECEIVE_COUNT),
                "WORKER_TIMEOUT_SECONDS": str(spec.timeout_seconds),
            }
        )
        if name in MODEL_KEY_USERS:
            env["MODEL_KEYS_SECRET_REF"] = f"secretsmanager:{config.model_keys_secret}"
            env.update({k: os.environ[k] for k in MODEL_PASSTHROUGH if os.environ.get(k)})
    else:
        env.update(
            {
                "DISPATCH_MODE": config.dispatch_mode,
                "PUBLIC_API_URL": settings.api_url,
                "COURIER_JOB_TYPES": json.dumps(job_types(settings, resources)),
                "ALLOW_HTTP_CALLBACKS": "true",
            }
        )
    if settings.lease_seconds is not None:
        env["JOB_LEASE_SECONDS"] = str(settings.lease_seconds)
    return {**env, **aws_environment(settings)}


def job_types(settings: DevSettings, resources: LocalResources) -> dict[str, dict[str, str]]:
    """Job type -> worker, Function URL, queue and timeout: what the stack gives jobs_api."""
    return {
        job_type: {
            "worker": spec.name,
            "url": settings.function_url(spec.name),
            "queueUrl": resources.queues[spec.name].queue_url,
            "timeoutSeconds": str(spec.timeout_seconds),
        }
        for spec in settings.config.workers
        for job_type in spec.job_types
    }


def seed_secrets(settings: DevSettings, session: Any) -> None:
    """The secrets and parameters a deployment's operator creates, with local values:
    the QStash server's signing keys, model keys from COURIER_MODEL_KEYS (JSON, if set),
    and each worker's public URL. Idempotent."""
    config = settings.config
    secrets = session.client("secretsmanager")
    values = {
        config.qstash_secret: {"token": DEV_TOKEN, "currentSigningKey": DEV_CURRENT_SIGNING_KEY, "nextSigningKey": DEV_NEXT_SIGNING_KEY},
        config.model_keys_secret: json.loads(os.environ.get("COURIER_MODEL_KEYS") or "{}"),
    }
    for name, value in values.items():
        try:
            secrets.create_secret(Name=name, SecretString=json.dumps(value))
        except secrets.exceptions.ResourceExistsException:
            secrets.put_secret_value(SecretId=name, SecretString=json.dumps(value))
    ssm = session.client("ssm")
    for spec in config.workers:
        ssm.put_parameter(Name=config.worker_url_parameter(spec.name), Value=settings.function_url(spec.name), Type="String", Overwrite=True)
