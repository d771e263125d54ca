"""Invoking a handler as Lambda does: a context, a timeout, a concurrency limit, a log line."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from devstack.runtime.events import LambdaContext

Handler = Callable[[dict[str, Any], Any], Any]
logger = logging.getLogger("devstack.runtime")


class Throttled(Exception):
    """Every concurrent slot of the function is busy (Lambda answers 429)."""


class TimedOut(Exception):
    """The handler ran past the function's timeout."""


class Invocable(Protocol):
    """What the gateways and pollers invoke: a function here (LocalFunction) or in its own
    process (remote.RemoteFunction)."""

    name: str

    def invoke(self, event: dict[str, Any], *, wait_for_slot: bool = False) -> Any: ...


@dataclass
class LocalFunction:
    name: str
    handler: Handler
    timeout_seconds: float = 30.0
    max_concurrency: int = 10
    memory_mb: int = 512

    def __post_init__(self) -> None:
        self._slots = threading.BoundedSemaphore(self.max_concurrency)
        self._counting = threading.Lock()
        #: Invocations running now, the most there ever were at once, and throttles (429s).
        self.active = self.peak = self.throttles = 0

    def _count(self, change: int) -> None:
        with self._counting:
            self.active += change
            self.peak = max(self.peak, self.active)

    def invoke(self, event: dict[str, Any], *, wait_for_slot: bool = False) -> Any:
        """Run the handler in its own thread; Throttled or TimedOut as Lambda would say."""
        if not self._slots.acquire(blocking=wait_for_slot):
            with self._counting:
                self.throttles += 1
            raise Throttled(self.name)
        self._count(1)
        outcome: dict[str, Any] = {}

        def run() -> None:
            # Lambda runs a handler on a main thread with an event loop (Mangum needs one).
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                context = LambdaContext(function_name=self.name, memory_limit_in_mb=self.memory_mb, timeout_seconds=self.timeout_seconds)
                outcome["result"] = self.handler(event, context)
            except BaseException as error:  # noqa: BLE001 - reported to the caller like Lambda's error
                outcome["error"] = error
            finally:
                loop.close()
                self._count(-1)
                self._slots.release()

        worker = threading.Thread(target=run, name=f"lambda-{self.name}", daemon=True)
        worker.start()
        worker.join(self.timeout_seconds)
        if worker.is_alive():
            # Lambda would freeze and kill it; a thread cannot be killed, so it is left to
            # finish on its own and its answer is dropped, as Lambda's would be.
            raise TimedOut(f"{self.name} timed out after {self.timeout_seconds:g}s")
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("result")
