"""Each function's environment variables as plain data: the CDK stack fills them with
its resources' tokens, the local stack (devstack) with loopback values, from these same
functions, so the two cannot drift apart."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from infra.config import MAX_RECEIVE_COUNT, CourierConfig, WorkerSpec

POWERTOOLS_NAMESPACE = "Courier"


def runtime_environment(name: str, stage: str) -> dict[str, str]:
    """What every function gets: its stage and Powertools' service, namespace, log level."""
    return {
        "COURIER_STAGE": stage,
        "POWERTOOLS_SERVICE_NAME": name,
        "POWERTOOLS_METRICS_NAMESPACE": POWERTOOLS_NAMESPACE,
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }


def shared_environment(*, table: str, bucket: str, qstash_url: str, qstash_secret_ref: str) -> dict[str, str]:
    """The table, bucket and QStash settings the jobs API and every worker use."""
    return {"TABLE_NAME": table, "BUCKET_NAME": bucket, "QSTASH_URL": qstash_url, "QSTASH_SECRET_REF": qstash_secret_ref}


def worker_environment(config: CourierConfig, spec: WorkerSpec) -> dict[str, str]:
    env = {
        "WORKER_NAME": spec.name,
        "WORKER_JOB_TYPES": ",".join(spec.job_types),
        "WORKER_MAX_RECEIVE_COUNT": str(MAX_RECEIVE_COUNT),
        "WORKER_TIMEOUT_SECONDS": str(spec.timeout_seconds),
    }
    if config.uses_function_urls:  # SQS-only deployments have no URL to check signatures against
        env["WORKER_PUBLIC_URL_PARAMETER"] = config.worker_url_parameter(spec.name)
    return env


def worker_dispatch_environment(config: CourierConfig, *, public_api_url: str) -> dict[str, str]:
    """What a worker needs to send jobs (a run's children, a parent's continuation) as the
    jobs API does: the routes (by parameter), the dispatch mode, and the failure hook's API."""
    return {
        "DISPATCH_MODE": config.effective_dispatch_mode,
        "COURIER_JOB_TYPES_PARAMETER": config.job_routes_parameter,
        "PUBLIC_API_URL": public_api_url,
        "COURIER_FAIR_SHARE": str(config.fair_share).lower(),
    }


def model_environment(config: CourierConfig, model_keys_ref: str) -> dict[str, str]:
    """For the workers that call models (`Worker.calls_models` in the catalogue)."""
    env = {"MODEL_KEYS_SECRET_REF": model_keys_ref}
    if config.ai_foundry_endpoint:
        env["AZURE_AI_FOUNDRY_ENDPOINT"] = config.ai_foundry_endpoint
    if config.ai_catalog_parameter:
        env["COURIER_AI_CATALOG_PARAMETER"] = config.ai_catalog_parameter
    return env


def api_environment(config: CourierConfig, *, public_api_url: str, job_types_json: str, sources_key: str) -> dict[str, str]:
    """`sources_key`: the KMS key that seals inbound webhook sources' secrets."""
    return {"DISPATCH_MODE": config.effective_dispatch_mode, "PUBLIC_API_URL": public_api_url, "COURIER_JOB_TYPES": job_types_json,
            "COURIER_FAIR_SHARE": str(config.fair_share).lower(), "COURIER_SOURCES_KEY": sources_key}


def job_type_routes(
    workers: Iterable[WorkerSpec], url: Callable[[str], str], queue_url: Callable[[str], str], *, stage: str,
) -> dict[str, dict[str, str]]:
    """Job type -> worker, Function URL, queue, timeout and QStash flow control: the
    registry jobs_api dispatches by. The flow-control key is one per worker and stage
    (every job type of a worker shares its concurrency), its parallelism the worker's
    concurrency, so QStash never delivers more at once than the worker takes."""
    routes = {}
    for spec in workers:
        for job_type in spec.job_types:
            route = {
                "worker": spec.name, "url": url(spec.name), "queueUrl": queue_url(spec.name),
                "timeoutSeconds": str(spec.timeout_seconds),
                "flowKey": f"courier-{stage}-{spec.name}", "parallelism": str(spec.max_concurrency),
            }
            if spec.rate_per_second:
                route["ratePerSecond"] = str(spec.rate_per_second)
            routes[job_type] = route
    return routes
