"""When to try again: the upstream's Retry-After when it gives one, else a jittered
exponential backoff; and which deployments are cooling down after failing."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime

from courier.errors import finite_delay

RETRYABLE_STATUSES = frozenset({408, 409, 429})
#: The deployment, not the request, is wrong: its key, its name, its permissions.
DEPLOYMENT_STATUSES = frozenset({401, 403, 404})


def is_retryable(status: int) -> bool:
    return status in RETRYABLE_STATUSES or status >= 500


def retry_after_seconds(headers: Mapping[str, str], now: Callable[[], float] = time.time) -> float | None:
    """`retry-after-ms` (Azure OpenAI's) wins over `retry-after` (seconds or an HTTP date).
    Only a finite wait of at most 12 hours counts: `inf`, `nan` and `1e400` are no wait."""
    if (millis := headers.get("retry-after-ms")) is not None:
        try:
            if (wait := finite_delay(float(millis) / 1000)) is not None:
                return wait
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return finite_delay(float(value))
    except ValueError:
        pass
    try:
        return finite_delay(parsedate_to_datetime(value).timestamp() - now())
    except (TypeError, ValueError, OverflowError):
        return None


def backoff_seconds(attempt: int, base: float, cap: float, rand: Callable[[], float] = random.random) -> float:
    """Attempt n waits between half and all of base·2^(n-1) ("equal jitter"): never zero,
    never in lockstep with other callers."""
    ceiling = min(cap, base * 2 ** (attempt - 1))
    return float(ceiling / 2 + rand() * ceiling / 2)


class Cooldowns:
    """Deployments that failed recently, shared by every request in this process, so a
    warm Lambda stops sending traffic to a deployment that just failed."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()

    def cool(self, name: str, seconds: float) -> None:
        with self._lock:
            self._until[name] = max(self._until.get(name, 0.0), self._clock() + seconds)

    def remaining(self, name: str) -> float:
        with self._lock:
            return max(0.0, self._until.get(name, 0.0) - self._clock())

    def clear(self, name: str | None = None) -> None:
        with self._lock:
            if name is None:
                self._until.clear()
            else:
                self._until.pop(name, None)
