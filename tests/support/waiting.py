"""Waiting on a condition of the system under test, never on the clock alone."""

from __future__ import annotations

import time
from collections.abc import Callable


def eventually(predicate: Callable[[], bool], timeout: float = 20.0, what: str = "the condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} never held")
        time.sleep(0.05)
