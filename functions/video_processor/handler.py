"""video_processor Lambda: runs `video.analyze` jobs delivered by QStash or SQS."""

from __future__ import annotations

from courier.adapters.worker import WorkerRuntime
from courier.errors import NotImplementedYet
from courier.jobs.registry import JobContext, JobRegistry, JobResult
from courier.observability import logger

registry = JobRegistry()


@registry.register("video.analyze")
def analyze(context: JobContext) -> JobResult:
    raise NotImplementedYet("video.analyze jobs are not available in this deployment yet")


_worker = WorkerRuntime.from_env(registry)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict, context: object) -> dict:
    return _worker(event, context)
