"""A worker's intake paused by an operator: dispatch sends its jobs to its SQS queue (where
the disabled event source mapping keeps them), saying why on the job, whatever the tenant;
another worker's jobs go to QStash as usual; resuming sends them to QStash again."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from courier.jobs.dispatch import Dispatcher, Route
from courier.jobs.intake import WorkerIntake, cached_intake
from courier.jobs.models import Job, JobStatus, utc_now
from courier.jobs.store import new_job_id
from devstack.aws_resources import create_resources
from infra.config import CourierConfig


class Published:
    """A QStash client that notes what it was asked to publish."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self.message = self

    def publish(self, **options: Any) -> Any:
        self.urls.append(options["url"])
        return type("Response", (), {"message_id": f"msg_{len(self.urls)}"})()


def job(job_type: str) -> Job:
    now = utc_now()
    return Job(new_job_id(), "newcomer", job_type, JobStatus.QUEUED, {}, now, now)


@pytest.mark.parametrize("mode", ["auto", "qstash"])
def test_a_paused_workers_jobs_wait_in_its_queue(mode: str, aws: str) -> None:
    resources = create_resources(CourierConfig(stage="intake"))
    intake = WorkerIntake(resources.table_name)
    queue = resources.queues["ai_router"].queue_url
    routes = {"text.hash": Route("ai_router", "https://ai.example/", queue), "video.analyze": Route("video_processor", "https://video.example/", "")}
    published = Published()
    dispatcher = Dispatcher(routes, mode=mode, qstash=lambda: published, paused=cached_intake(intake, seconds=0), share_out=False)  # type: ignore[arg-type]
    intake.set_paused("ai_router", True)
    held = dispatcher.dispatch(job("text.hash"))
    other = dispatcher.dispatch(job("video.analyze"))
    if mode == "auto":
        assert held.transport == "sqs" and "intake is paused" in (held.fallback_reason or "")
        assert boto3.client("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"] == {
            "ApproximateNumberOfMessages": "1"}
    else:  # QStash only: no queue to hold it in; QStash's paused keys hold it
        assert held.transport == "qstash"
    assert other.transport == "qstash" and published.urls[-1] == "https://video.example/"
    intake.set_paused("ai_router", False)
    assert dispatcher.dispatch(job("text.hash")).transport == "qstash"
