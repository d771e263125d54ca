"""The Lambda handler of every queued worker, built one way (functions/<name>/handler.py).

Light on purpose: the worker runtime (signature checks, Powertools' batch processing, the
job store) is imported and built on the first queued event, once however many arrive
together, so a function that also serves an API (the AI router) starts without it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from courier.adapters.lambda_events import event_kind
from courier.jobs.registry import JobRegistry

if TYPE_CHECKING:
    from courier.settings import WorkerSettings

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


def queued_worker_handler(worker: str, settings: WorkerSettings, *, http: LambdaHandler | None = None) -> LambdaHandler:
    """The runtime over the worker's catalogue types, in Powertools' logger context. `http`:
    the API that shares the function (the AI router's), which answers HTTP API events. Each
    job type's code is imported on its first verified job."""
    from courier.observability import logger as function_logger

    registry = JobRegistry.for_worker(worker)
    registry.require(settings.job_types, settings.name)  # a deployment naming a type we lack fails its init
    built: list[LambdaHandler] = []
    building = threading.Lock()

    def runtime() -> LambdaHandler:
        with building:
            if not built:
                from courier.adapters.worker import WorkerRuntime

                built.append(WorkerRuntime.from_env(registry, settings))
        return built[0]

    @function_logger.inject_lambda_context(clear_state=True)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if http is not None and event_kind(event) == "http_api":
            return http(event, context)
        return runtime()(event, context)

    return handler
