"""video_processor Lambda: runs `video.analyze` jobs delivered by QStash or SQS."""

from __future__ import annotations

from courier import coldstart

coldstart.begin()  # no garbage collection while the modules below load (courier/coldstart.py)

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from courier.adapters.worker import WorkerRuntime
from courier.jobs.registry import JobRegistry
from courier.observability import logger
from courier.settings import ModelWorkerSettings

# Handlers are imported on the first verified job: PyAV and numpy stay out of the cold start.
registry = JobRegistry.for_worker("video_processor")
settings = ModelWorkerSettings.from_env()
_worker = WorkerRuntime.from_env(registry, settings)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return _worker(event, context)


coldstart.end()
