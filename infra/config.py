"""Stage configuration: the one source of names and sizes for CDK and the local stack.

This module imports nothing from CDK on purpose: the local stack (devstack) reads the
same configuration to create the same bucket, table, queues and secrets offline, so a
name or a limit changed here changes both worlds at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping

# The jobs table's layout is defined by the library that reads it, so the two can never
# disagree; re-exported here for the stack and the local stack.
from courier.jobs.table import (  # noqa: F401
    GSI_KEYS,
    GSI_TENANT,
    GSI_TENANT_STATUS,
    TABLE_PARTITION_KEY,
    TABLE_SORT_KEY,
    TABLE_TTL_ATTRIBUTE,
)

#: Lambda runtime for every function; the dependency layers are built for this version.
LAMBDA_PYTHON_VERSION = "3.14"
#: Lambda's limit on a function's unzipped code plus all its layers.
LAMBDA_UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024
#: A new AWS account's concurrent executions for all its functions (no function of
#: Courier's reserves any: the local stack gives each this limit too).
LAMBDA_ACCOUNT_CONCURRENCY = 1000
#: A message that fails this many receives on a worker queue moves to its DLQ.
MAX_RECEIVE_COUNT = 5
#: AWS guidance: a queue's visibility timeout is at least six times its function's timeout.
VISIBILITY_TIMEOUT_FACTOR = 6
DLQ_RETENTION_DAYS = 14

UPLOADS_PREFIX = "uploads/"
# Large job inputs and results: the library that writes them defines where.
from courier.jobs.payloads import INPUTS_PREFIX, RESULTS_PREFIX  # noqa: E402,F401


@dataclass(frozen=True)
class WorkerSpec:
    """Sizing of one queued worker: a Lambda reachable by Function URL and by SQS."""

    name: str
    job_types: tuple[str, ...]
    memory_mb: int
    timeout_seconds: int
    ephemeral_storage_mb: int = 512
    batch_size: int = 1
    #: The most invocations at once, by either queue: QStash's flow-control parallelism and
    #: the SQS event source's maximum concurrency.
    max_concurrency: int = 10
    #: Optional cap on deliveries started per second (QStash flow-control rate).
    rate_per_second: int | None = None
    #: Dependency layers (names in infra.assets.DEPENDENCY_LAYERS) besides the shared library.
    layers: tuple[str, ...] = ("deps",)

    @property
    def visibility_timeout_seconds(self) -> int:
        return self.timeout_seconds * VISIBILITY_TIMEOUT_FACTOR


@dataclass(frozen=True)
class ApiFunctionSpec:
    """Sizing of a function that serves the HTTP API (API Gateway cuts requests at 30 s)."""

    name: str
    memory_mb: int = 512
    timeout_seconds: int = 29
    layers: tuple[str, ...] = ("deps",)


#: Workers whose code calls AI models and so needs the model keys.
MODEL_KEY_USERS = ("ai_router", "video_processor")
#: The HTTP API's routes: function -> (path, method). The stack adds them to API Gateway;
#: the local stack's gateway routes by the same table.
API_ROUTES: dict[str, tuple[tuple[str, str], ...]] = {
    "jobs_api": (
        ("/v1/jobs", "ANY"),
        ("/v1/jobs/{proxy+}", "ANY"),
        ("/v1/uploads", "POST"),
        ("/v1/hooks/{proxy+}", "POST"),
        ("/healthz", "GET"),
        ("/docs", "GET"),
        ("/openapi.json", "GET"),
    ),
    "ai_router": (
        ("/v1/route", "POST"),
        ("/v1/models", "GET"),
    ),
}


@dataclass(frozen=True)
class CourierConfig:
    """Everything a stage may tune; defaults are what `cdk deploy` uses without context."""

    stage: str = "dev"
    alarm_email: str | None = None
    #: Secret refs: a Secrets Manager secret name, or `ssm:/parameter/name` for an SSM
    #: SecureString. Both hold JSON (see README, "Secrets").
    qstash_secret: str = "courier/dev/qstash"
    model_keys_secret: str = "courier/dev/model-keys"
    #: The Azure AI Foundry resource the default model catalog points at
    #: (`https://<resource>.services.ai.azure.com`); unset, no model is configured.
    ai_foundry_endpoint: str | None = None
    #: An SSM String parameter holding a catalog override (JSON), read at run time.
    ai_catalog_parameter: str | None = None
    dispatch_mode: str = "auto"
    #: QStash's API endpoint (the EU and US regions have their own).
    qstash_url: str = "https://qstash.upstash.io"
    api_rate_limit: int = 50
    api_burst_limit: int = 100
    log_retention_days: int = 30
    upload_expiry_days: int = 7
    result_expiry_days: int = 30
    retain_data: bool = True
    cors_origins: tuple[str, ...] = ("*",)
    jobs_api: ApiFunctionSpec = field(default_factory=lambda: ApiFunctionSpec("jobs_api"))
    workers: tuple[WorkerSpec, ...] = (
        WorkerSpec(
            name="video_processor",
            job_types=("video.analyze",),
            memory_mb=3008,
            timeout_seconds=900,
            ephemeral_storage_mb=4096,
            layers=("deps", "video-deps"),
        ),
        WorkerSpec(
            name="ai_router",
            job_types=("ai.route", "text.hash", "demo.sleep"),
            memory_mb=512,
            timeout_seconds=300,
            max_concurrency=20,
        ),
    )

    @property
    def prefix(self) -> str:
        """Physical-name prefix for resources named by us (SSM parameters)."""
        return f"/courier/{self.stage}"

    @property
    def functions(self) -> tuple[ApiFunctionSpec | WorkerSpec, ...]:
        """Every Lambda function the stack deploys."""
        return (self.jobs_api, *self.workers)

    def worker(self, name: str) -> WorkerSpec:
        for spec in self.workers:
            if spec.name == name:
                return spec
        raise KeyError(f"no worker named {name!r}")

    def worker_url_parameter(self, name: str) -> str:
        """SSM parameter that holds a worker's public Function URL.

        A function cannot be given its own Function URL as an environment variable (the
        URL depends on the function), so CDK writes it here and the worker reads it to
        check the `sub` claim of QStash signatures.
        """
        return f"{self.prefix}/workers/{name}/url"

    @classmethod
    def from_context(cls, get: Callable[[str], Any]) -> "CourierConfig":
        """Build from CDK context (`cdk deploy -c key=value` or cdk.json)."""
        base = cls()
        stage = _str(get("stage")) or base.stage
        overrides: dict[str, Any] = {
            "stage": stage,
            "qstash_secret": f"courier/{stage}/qstash",
            "model_keys_secret": f"courier/{stage}/model-keys",
        }
        for key, attr, conv in _CONTEXT_KEYS:
            value = get(key)
            if value is not None and value != "":
                overrides[attr] = conv(value)
        config = replace(base, **overrides)
        config.validate()
        return config

    def validate(self) -> None:
        if self.dispatch_mode not in ("auto", "qstash", "sqs"):
            raise ValueError(f"dispatchMode must be auto, qstash or sqs, not {self.dispatch_mode!r}")
        if self.ai_foundry_endpoint and not self.ai_foundry_endpoint.startswith("https://"):
            raise ValueError("aiFoundryEndpoint must be an https:// URL")
        if self.ai_catalog_parameter and not self.ai_catalog_parameter.startswith("/"):
            raise ValueError("aiCatalogParameter must be an SSM parameter name starting with /")
        for spec in self.workers:
            if not 1 <= spec.timeout_seconds <= 900:
                raise ValueError(f"{spec.name}: Lambda timeouts are 1 to 900 seconds")
            if spec.max_concurrency < 2:
                raise ValueError(f"{spec.name}: an SQS event source's maximum concurrency is at least 2")


def _str(value: Any) -> str:
    return "" if value is None else str(value)


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def _origins(value: Any) -> tuple[str, ...]:
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value)
    return tuple(v.strip() for v in str(value).split(",") if v.strip())


_CONTEXT_KEYS: tuple[tuple[str, str, Callable[[Any], Any]], ...] = (
    ("alarmEmail", "alarm_email", str),
    ("qstashSecret", "qstash_secret", str),
    ("modelKeysSecret", "model_keys_secret", str),
    ("aiFoundryEndpoint", "ai_foundry_endpoint", str),
    ("aiCatalogParameter", "ai_catalog_parameter", str),
    ("dispatchMode", "dispatch_mode", str),
    ("qstashUrl", "qstash_url", str),
    ("apiRateLimit", "api_rate_limit", int),
    ("apiBurstLimit", "api_burst_limit", int),
    ("logRetentionDays", "log_retention_days", int),
    ("uploadExpiryDays", "upload_expiry_days", int),
    ("resultExpiryDays", "result_expiry_days", int),
    ("retainData", "retain_data", _bool),
    ("corsOrigins", "cors_origins", _origins),
)

#: The context keys a user may set, for the README and for error messages.
CONTEXT_KEYS: Mapping[str, str] = {key: attr for key, attr, _ in _CONTEXT_KEYS} | {"stage": "stage"}
