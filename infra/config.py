"""Stage configuration: the one source of names and sizes for CDK and the local stack.

This module imports nothing from CDK on purpose: the local stack (devstack) reads the
same configuration to create the same bucket, table, queues and secrets offline, so a
name or a limit changed here changes both worlds at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

# Defined by the library that reads and writes them, so the two can never disagree, and
# re-exported here (`X as X`) for the stack and the local stack: the jobs table's layout,
# where large inputs and results live, and the catalogue's workers.
from courier.jobs import catalog
from courier.jobs.catalog import VISIBILITY_TIMEOUT_FACTOR as VISIBILITY_TIMEOUT_FACTOR
from courier.jobs.catalog import Worker
from courier.jobs.payloads import INPUTS_PREFIX as INPUTS_PREFIX
from courier.jobs.payloads import RESULTS_PREFIX as RESULTS_PREFIX
from courier.jobs.table import GSI_KEYS as GSI_KEYS
from courier.jobs.table import GSI_TENANT as GSI_TENANT
from courier.jobs.table import GSI_TENANT_STATUS as GSI_TENANT_STATUS
from courier.jobs.table import TABLE_PARTITION_KEY as TABLE_PARTITION_KEY
from courier.jobs.table import TABLE_SORT_KEY as TABLE_SORT_KEY
from courier.jobs.table import TABLE_TTL_ATTRIBUTE as TABLE_TTL_ATTRIBUTE

#: A worker's sizing, as the stack reads it: the catalogue's `Worker`.
WorkerSpec = Worker

#: Lambda runtime for every function; the dependency layers are built for this version.
LAMBDA_PYTHON_VERSION = "3.13"
#: Lambda's limit on a function's unzipped code plus all its layers.
LAMBDA_UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024
#: A new AWS account's concurrent executions for all its functions (no function of
#: Courier's reserves any: the local stack gives each this limit too).
LAMBDA_ACCOUNT_CONCURRENCY = 1000
#: A message that fails this many receives on a worker queue moves to its DLQ.
MAX_RECEIVE_COUNT = 5
DLQ_RETENTION_DAYS = 14

#: SQS keeps a message that moves to a DLQ under its original enqueue time, so a DLQ
#: must keep messages longer than its source queue or they expire there unseen.
QUEUE_RETENTION_DAYS = 4

UPLOADS_PREFIX = "uploads/"


def stack_name(stage: str) -> str:
    return f"Courier-{stage}"


#: The stack's outputs, by their logical ids (fixed, so `aws cloudformation
#: describe-stacks`, the README and `courier` all use the same names).
OUTPUT_API_URL = "ApiUrl"
OUTPUT_TABLE_NAME = "TableName"
OUTPUT_BUCKET_NAME = "BucketName"
OUTPUT_ALARM_TOPIC = "AlarmTopicArn"
#: Per worker: `<Worker><kind>`, e.g. `VideoProcessorFunctionUrl`.
WORKER_OUTPUT_KINDS = ("FunctionUrl", "QueueUrl", "DeadLetterQueueUrl")


def pascal_name(name: str) -> str:
    """`video_processor` -> `VideoProcessor`: a worker's construct id and output prefix."""
    return "".join(part.capitalize() for part in name.split("_"))


#: Each worker's alarms (infra/constructs/queued_worker.py): dead letters, errors, throttles,
#: p99 duration, dead jobs, oldest message. The cost model counts them; a test checks the template.
ALARMS_PER_WORKER = 6


def alarm_count(workers: int) -> int:
    return ALARMS_PER_WORKER * workers


def worker_output(worker: str, kind: str) -> str:
    if kind not in WORKER_OUTPUT_KINDS:
        raise ValueError(f"unknown worker output {kind!r}")
    return pascal_name(worker) + kind


@dataclass(frozen=True)
class ApiFunctionSpec:
    """Sizing of a function that serves the HTTP API (API Gateway cuts requests at 30 s)."""

    name: str
    memory_mb: int = 512
    timeout_seconds: int = 29
    layers: tuple[str, ...] = ("deps",)

    @property
    def reserved(self) -> None:
        """API functions reserve nothing: they scale in the account's unreserved pool."""
        return None


#: Regions whose CloudFormation has no AWS::Lambda::Url (cfn-lint's region schemas, 2026):
#: Courier deploys there in SQS-only mode (no Function URL, dispatch by SQS).
REGIONS_WITHOUT_FUNCTION_URLS = frozenset({
    "cn-northwest-1", "us-gov-east-1", "us-gov-west-1", "ap-east-2", "ap-south-2", "ap-southeast-4",
    "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-west-1", "eu-central-2", "il-central-1",
    "me-central-1", "mx-central-1",
})

#: The HTTP API's routes: function -> (path, method). The stack adds them to API Gateway;
#: the local stack's gateway routes by the same table.
API_ROUTES: dict[str, tuple[tuple[str, str], ...]] = {
    "jobs_api": (
        ("/v1/jobs", "ANY"),
        ("/v1/jobs/{proxy+}", "ANY"),
        ("/v1/uploads", "POST"),
        ("/v1/schedules", "ANY"),
        ("/v1/schedules/{proxy+}", "ANY"),
        ("/v1/allowed-hosts", "ANY"),
        ("/v1/usage", "GET"),
        ("/v1/hooks/{proxy+}", "POST"),
        ("/console", "GET"),
        ("/console/{proxy+}", "GET"),
        ("/healthz", "GET"),
        ("/docs", "GET"),
        ("/openapi.json", "GET"),
    ),
    "ai_router": (
        ("/v1/route", "POST"),
        ("/v1/models", "GET"),
    ),
}
#: CORS of the HTTP API (when `apiCorsOrigins` is set): what a browser app may send.
CORS_METHODS = ("GET", "POST", "PUT", "DELETE")
CORS_HEADERS = ("authorization", "content-type", "x-api-key")
#: The function behind API Gateway's `$default` route: any other method and path gets its
#: answer in Courier's error shape (404, 405), not API Gateway's bare `{"message": "Not Found"}`.
DEFAULT_ROUTE_FUNCTION = "jobs_api"


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
    #: Tenants share each worker fairly: a QStash flow-control key and an SQS message group
    #: per tenant (`-c fairShare=false`: one line per worker, first come first served).
    fair_share: bool = True
    #: QStash's API endpoint (the EU and US regions have their own).
    qstash_url: str = "https://qstash.upstash.io"
    api_rate_limit: int = 50
    api_burst_limit: int = 100
    log_retention_days: int = 30
    upload_expiry_days: int = 7
    result_expiry_days: int = 30
    retain_data: bool = True
    cors_origins: tuple[str, ...] = ("*",)
    #: Origins allowed to call the HTTP API from a browser (none: API keys stay server-side).
    api_cors_origins: tuple[str, ...] = ()
    #: Whether workers get Function URLs (QStash's way in). None: yes, unless the region
    #: is one of REGIONS_WITHOUT_FUNCTION_URLS; False deploys SQS-only.
    function_urls: bool | None = None
    #: The region being synthesized for, when known (CDK_DEFAULT_REGION or `-c region=`).
    region: str | None = None
    #: A customer-managed KMS key (ARN) the secrets are encrypted with: functions may
    #: decrypt with it through Secrets Manager and SSM only.
    secrets_kms_key_arn: str | None = None
    #: `-c reservedConcurrency=`: for every worker, 0 (`off`, for accounts whose limit is
    #: under 100 + the workers' sum) or a number; None keeps each WorkerSpec's own.
    reserved_concurrency: int | None = None
    jobs_api: ApiFunctionSpec = field(default_factory=lambda: ApiFunctionSpec("jobs_api"))
    #: From the catalogue (courier.jobs.catalog); a test may size them differently.
    workers: tuple[WorkerSpec, ...] = field(default_factory=lambda: catalog.load().workers)

    @property
    def uses_function_urls(self) -> bool:
        if self.function_urls is not None:
            return self.function_urls
        return self.region not in REGIONS_WITHOUT_FUNCTION_URLS

    @property
    def effective_dispatch_mode(self) -> str:
        """Without Function URLs QStash has nowhere to deliver: SQS only."""
        return self.dispatch_mode if self.uses_function_urls else "sqs"

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

    @property
    def job_routes_parameter(self) -> str:
        """SSM parameter that holds every job type's route (the jobs API's COURIER_JOB_TYPES),
        for the workers: they send children and continuations, and their own Function URLs
        are in it, which their environment cannot name."""
        return f"{self.prefix}/job-routes"

    def worker_url_parameter(self, name: str) -> str:
        """SSM parameter that holds a worker's public Function URL.

        A function cannot be given its own Function URL as an environment variable (the
        URL depends on the function), so CDK writes it here and the worker reads it to
        check the `sub` claim of QStash signatures.
        """
        return f"{self.prefix}/workers/{name}/url"

    @classmethod
    def from_context(cls, get: Callable[[str], Any]) -> CourierConfig:
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
        if config.reserved_concurrency is not None:
            config = replace(config, workers=tuple(replace(w, reserved_concurrency=config.reserved_concurrency) for w in config.workers))
        config.validate()
        return config

    def validate(self) -> None:
        catalog.load().check()
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
            if spec.reserved is not None and spec.reserved < spec.max_concurrency:
                raise ValueError(
                    f"{spec.name}: reserved concurrency {spec.reserved} is below its maximum concurrency "
                    f"{spec.max_concurrency}: QStash and SQS would be throttled"
                )
        if self.secrets_kms_key_arn and not self.secrets_kms_key_arn.startswith("arn:"):
            raise ValueError("secretsKmsKeyArn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)")
        for origin in self.api_cors_origins:
            if origin != "*" and not origin.startswith(("https://", "http://")):
                raise ValueError(f"apiCorsOrigins: {origin!r} is not an origin (https://app.example.com)")
        if self.dispatch_mode == "qstash" and not self.uses_function_urls:
            raise ValueError(
                f"dispatchMode=qstash needs Function URLs, which {self.region or 'this region'} does not have: "
                "use dispatchMode=auto or sqs (SQS-only there)"
            )


def _str(value: Any) -> str:
    return "" if value is None else str(value)


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def _reservation(value: Any) -> int:
    """`off` (or 0) reserves nothing; a number reserves that much."""
    return 0 if str(value).strip().lower() in ("off", "none") else int(value)


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
    ("fairShare", "fair_share", _bool),
    ("qstashUrl", "qstash_url", str),
    ("apiRateLimit", "api_rate_limit", int),
    ("apiBurstLimit", "api_burst_limit", int),
    ("logRetentionDays", "log_retention_days", int),
    ("uploadExpiryDays", "upload_expiry_days", int),
    ("resultExpiryDays", "result_expiry_days", int),
    ("retainData", "retain_data", _bool),
    ("corsOrigins", "cors_origins", _origins),
    ("apiCorsOrigins", "api_cors_origins", _origins),
    ("functionUrls", "function_urls", _bool),
    ("region", "region", str),
    ("secretsKmsKeyArn", "secrets_kms_key_arn", str),
    ("reservedConcurrency", "reserved_concurrency", _reservation),
)

#: The context keys a user may set, for the README and for error messages.
CONTEXT_KEYS: Mapping[str, str] = {key: attr for key, attr, _ in _CONTEXT_KEYS} | {"stage": "stage"}
