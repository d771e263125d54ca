"""Waiting for a job through the API, for tests on either stack."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

Job = dict[str, Any]
FINISHED = ("succeeded", "failed", "dead", "cancelled")


def wait_for_job(fetch: Callable[[str], Job], job_id: str, predicate: Callable[[Job], bool], timeout: float) -> Job:
    deadline = time.monotonic() + timeout
    while not predicate(job := fetch(job_id)):
        if time.monotonic() > deadline:
            raise AssertionError(f"the job never got there: {job}")
        time.sleep(0.05)
    return job
