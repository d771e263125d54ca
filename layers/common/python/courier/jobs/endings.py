"""What follows a job's end, wherever it ended (its run, a cancel, QStash giving up on it,
a dispatch that found no queue): its outcome callback, and its parent's count. Written
once, for the worker runtime and the jobs API alike."""

from __future__ import annotations

import logging

from courier.jobs.fanout import FanIn
from courier.jobs.models import Job
from courier.jobs.notify import Notifier

logger = logging.getLogger(__name__)


def job_ended(job: Job, notifier: Notifier, fan_in: FanIn | None) -> None:
    """Should the count fail (DynamoDB throttled), the error reaches the caller: a worker's
    transport delivers again, and the redelivery finds the job finished and counts again."""
    notifier.job_finished(job)
    if not job.parent_id:
        return
    if fan_in is None:
        logger.error("job %s has a parent but this runtime cannot count it (no job routes)", job.job_id)
        return
    fan_in.child_finished(job)
