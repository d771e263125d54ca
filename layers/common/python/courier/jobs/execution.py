"""Running one delivered message, with an outcome both transports map the same way."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum

from courier.errors import CourierError
from courier.jobs.messages import JobMessage
from courier.jobs.registry import JobRegistry, JobResult

logger = logging.getLogger(__name__)


class Verdict(str, Enum):
    DONE = "done"
    RETRY = "retry"
    REJECT = "reject"  # non-retryable: never deliver this message again


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    job_id: str | None = None
    result: JobResult | None = None
    error: CourierError | None = None


def run_message(registry: JobRegistry, body: bytes | str) -> Outcome:
    """Parse, look up and run; every failure becomes a verdict, none escapes."""
    job_id: str | None = None
    try:
        message = JobMessage.parse(body)
        job_id = message.job_id
        result = registry.handler_for(message.type)(message)
        return Outcome(Verdict.DONE, job_id=job_id, result=result)
    except CourierError as error:
        verdict = Verdict.RETRY if error.retryable else Verdict.REJECT
        logger.warning("job %s: %s (%s)", job_id, error.code, verdict.value)
        return Outcome(verdict, job_id=job_id, error=error)
    except Exception as error:  # an unexpected bug: retry, QStash/SQS bound the attempts
        logger.exception("job %s failed unexpectedly", job_id)
        wrapped = CourierError(f"unexpected {type(error).__name__}", code="internal_error")
        return Outcome(Verdict.RETRY, job_id=job_id, error=wrapped)
