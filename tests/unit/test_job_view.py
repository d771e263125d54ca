"""The job's one public shape: JobView's fields, each read from the job attribute of its
name, so a field the record renames or drops cannot vanish from the API unnoticed."""

from __future__ import annotations

import dataclasses

from courier.jobs.models import Job, JobError, JobStatus
from courier.jobs.views import COMPUTED, JobView, _snake


def test_every_field_is_the_jobs_or_computed() -> None:
    attributes = {f.name for f in dataclasses.fields(Job)} | {"children_pending"}
    missing = [name for name in JobView.model_fields if name not in COMPUTED and _snake(name) not in attributes]
    assert missing == []


def test_a_view_has_the_contracts_fields_and_no_internals() -> None:
    job = Job(
        job_id="job_1", tenant_id="acme", type="text.hash", status=JobStatus.FAILED, input={"text": "a"},
        created_at="2026-01-01T00:00:00.000Z", updated_at="2026-01-01T00:00:01.000Z", attempts=2,
        error=JobError("bad", "no", False), lease_token="secret", children=["job_2", "job_3"], children_open=["job_3"],
        input_ref={"bucket": "b", "key": "inputs/acme/job_1", "size": 9, "sha256": "x"},
    )
    view = JobView.of(job, statusUrl="http://127.0.0.1/v1/jobs/job_1")
    assert view == {
        "jobId": "job_1", "type": "text.hash", "status": "failed", "input": {"text": "a"}, "attempts": 2,
        "transport": None, "messageId": None, "createdAt": job.created_at, "updatedAt": job.updated_at,
        "statusUrl": "http://127.0.0.1/v1/jobs/job_1", "error": {"code": "bad", "message": "no", "retryable": False},
        "inputRef": {"key": "inputs/acme/job_1", "size": 9}, "childrenPending": 1,
    }
    assert JobView.model_validate(view).jobId == "job_1"  # the model accepts what it builds
