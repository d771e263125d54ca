"""A run's progress on its job record: at most one write a second, the latest report kept.

A handler may report as often as it likes (every decoded frame, say); DynamoDB sees one
conditional write a second at most, and only while the run still holds its lease. What
the throttle held back goes with the run's final write, so the record ends on the last
report, not on one from a second before.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from courier.jobs.models import Job, utc_now
from courier.jobs.store import JobStore

logger = logging.getLogger(__name__)

MIN_INTERVAL_SECONDS = 1.0
MAX_STAGE = 64
MAX_MESSAGE = 500


class ProgressReporter:
    def __init__(self, store: JobStore, job: Job, *, clock: Callable[[], float] = time.monotonic,
                 interval: float = MIN_INTERVAL_SECONDS) -> None:
        self._store = store
        self._job = job
        self._clock = clock
        self._interval = interval
        self._last_write: float | None = None
        #: The latest report not yet written (the final write takes it).
        self.pending: dict[str, Any] | None = None

    def __call__(self, stage: str, fraction: float, message: str | None = None) -> None:
        progress: dict[str, Any] = {
            "stage": str(stage)[:MAX_STAGE], "fraction": round(min(1.0, max(0.0, float(fraction))), 4), "updatedAt": utc_now(),
        }
        if message:
            progress["message"] = str(message)[:MAX_MESSAGE]
        now = self._clock()
        if self._last_write is not None and now - self._last_write < self._interval:
            self.pending = progress
            return
        self.pending, self._last_write = None, now
        try:
            if not self._store.record_progress(self._job, progress):
                logger.info("progress not recorded: the run no longer holds the job")
        except Exception as error:  # progress is news about the job, never a reason to fail it
            logger.warning("could not record progress: %s", error)


def finished_progress(last: dict[str, Any] | None) -> dict[str, Any]:
    """A succeeded job's progress: `done` at 100 %, its last message kept when the handler
    said `done` itself (a failed job keeps its last report: where it stopped is news)."""
    progress: dict[str, Any] = {"stage": "done", "fraction": 1.0, "updatedAt": utc_now()}
    if last and last.get("stage") == "done" and last.get("message"):
        progress["message"] = last["message"]
    return progress

