"""jobs_api Lambda: the jobs HTTP API (FastAPI through Mangum)."""

from __future__ import annotations

from aws_lambda_powertools import Logger

from courier.adapters.http_app import create_app, lambda_handler
from courier.errors import NotImplementedYet

logger = Logger()
app = create_app(
    title="Courier jobs API",
    description="Enqueue background jobs, follow their status, retry them, and upload their inputs.",
)


def _not_yet(feature: str) -> NotImplementedYet:
    return NotImplementedYet(f"{feature} is not available in this deployment yet")


@app.post("/v1/jobs", status_code=202, tags=["jobs"], summary="Enqueue a job")
def enqueue_job() -> None:
    raise _not_yet("enqueueing jobs")


@app.get("/v1/jobs", tags=["jobs"], summary="List the caller's jobs")
def list_jobs() -> None:
    raise _not_yet("listing jobs")


@app.get("/v1/jobs/{job_id}", tags=["jobs"], summary="A job's status and result")
def get_job(job_id: str) -> None:
    raise _not_yet("job status")


@app.post("/v1/jobs/{job_id}/retry", status_code=202, tags=["jobs"], summary="Retry a failed or dead job")
def retry_job(job_id: str) -> None:
    raise _not_yet("retrying jobs")


@app.delete("/v1/jobs/{job_id}", tags=["jobs"], summary="Cancel a queued job")
def cancel_job(job_id: str) -> None:
    raise _not_yet("cancelling jobs")


@app.post("/v1/uploads", tags=["uploads"], summary="A presigned URL to upload a job's input")
def create_upload() -> None:
    raise _not_yet("uploads")


@app.post("/v1/hooks/qstash/failure", tags=["hooks"], summary="QStash failure callback")
def qstash_failure() -> None:
    raise _not_yet("the QStash failure callback")


_http = lambda_handler(app)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict, context: object) -> dict:
    return _http(event, context)
