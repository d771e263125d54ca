"""video_processor Lambda: runs `video.analyze` jobs delivered by QStash or SQS."""

from __future__ import annotations

from courier.adapters.worker import WorkerRuntime
from courier.jobs.registry import JobRegistry
from courier.observability import logger
from courier.video.job import analyze_job

registry = JobRegistry()
registry.register("video.analyze")(analyze_job)
_worker = WorkerRuntime.from_env(registry)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict, context: object) -> dict:
    return _worker(event, context)
