"""An SQS event source mapping, locally: poll, invoke with batches, honour partial failures.

As in AWS: records the handler reports in batchItemFailures (or all of them when it
fails) stay in the queue and come back after the visibility timeout; the queue's redrive
policy moves a message to its DLQ after maxReceiveCount receives; up to the mapping's
maximum concurrency batches run at once (one receiver, which asks only for as many
messages as there are free slots, so a received message never waits for a slot); a
disabled mapping receives nothing, so its messages stay in the queue until it is enabled
(`courier flow pause|resume`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from devstack.runtime.events import QueuedMessage, sqs_event
from devstack.runtime.invoke import Invocable, Throttled

logger = logging.getLogger("devstack.runtime")
#: How often a poller asks whether its mapping is enabled (AWS takes seconds too).
STATE_SECONDS = 1.0
#: A short-polling loop's first pause after an empty receive.
FIRST_IDLE_SECONDS = 0.05


class SqsPoller:
    def __init__(self, sqs: Any, queue_url: str, function: Invocable, *, batch_size: int = 1, wait_seconds: int = 1,
                 idle_seconds: float = 0.0, max_concurrency: int = 1, enabled: Callable[[], bool] | None = None) -> None:
        """`wait_seconds`: each receive's long poll (SQS's WaitTimeSeconds). Tests short-poll
        (0) with a pause after an empty receive instead, so that stopping is immediate: it
        starts at FIRST_IDLE_SECONDS and doubles while the queue stays empty, up to
        `idle_seconds` (an idle short poll costs a request each time), and `wake()` (something
        was sent) ends it at once. `enabled`: the mapping's state, asked at most every
        STATE_SECONDS."""
        self.sqs = sqs
        self.queue_url = queue_url
        self.function = function
        self.batch_size = batch_size
        self.wait_seconds = wait_seconds
        self.idle_seconds = idle_seconds
        self.queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.max_concurrency = max_concurrency
        self._slots = threading.BoundedSemaphore(max_concurrency)
        self._pool = ThreadPoolExecutor(max_concurrency, thread_name_prefix=f"esm-{function.name}")
        self._enabled = enabled
        self._state: tuple[float, bool] = (0.0, True)
        self._stop = threading.Event()
        self._woken = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"sqs-{function.name}", daemon=True)

    def start(self) -> SqsPoller:
        self._thread.start()
        return self

    def request_stop(self) -> None:
        """Ask the loop to end after its current long poll (stop several at once, then join)."""
        self._stop.set()
        self._woken.set()

    def wake(self) -> None:
        """Receive again now: a message may have been sent (a short-polling loop's pause ends)."""
        self._woken.set()

    def stop(self) -> None:
        self.request_stop()
        self._thread.join(self.wait_seconds + 5)
        self._pool.shutdown(wait=False, cancel_futures=True)  # a batch still running keeps its messages (they come back, as in AWS)

    def _loop(self) -> None:
        idle = 0.0
        while not self._stop.is_set():
            try:
                self._woken.clear()
                if self.poll_once() or not self.idle_seconds:
                    idle = 0.0
                    continue
                idle = min(self.idle_seconds, idle * 2 or FIRST_IDLE_SECONDS)
                self._woken.wait(idle)
            except Exception:  # the endpoint went away, or a bug: keep polling, as AWS does
                logger.exception("polling %s failed", self.queue_url)
                self._stop.wait(1)

    def enabled(self) -> bool:
        if self._enabled is None:
            return True
        if time.monotonic() >= self._state[0]:
            self._state = (time.monotonic() + STATE_SECONDS, self._enabled())
        return self._state[1]

    def poll_once(self) -> int:
        """Wait for a free slot, take every free one, receive for them, and run each batch
        in the pool, which gives its slot back when the batch is done (a receive that fails
        gives every slot back)."""
        if not self.enabled():
            self._stop.wait(STATE_SECONDS)
            return 0
        while not self._slots.acquire(timeout=0.2):
            if self._stop.is_set():
                return 0
        free = 1
        while free < self.max_concurrency and self._slots.acquire(blocking=False):
            free += 1
        messages: list[QueuedMessage] = []
        try:
            messages = self._receive(min(10, free * self.batch_size))
        finally:
            batches = [messages[i:i + self.batch_size] for i in range(0, len(messages), self.batch_size)]
            for _ in range(free - len(batches)):
                self._slots.release()
        for batch in batches:
            self._pool.submit(self._run, batch)
        return len(messages)

    def _run(self, messages: list[QueuedMessage]) -> None:
        try:
            self._invoke(messages)
        except Exception:  # as the loop does: logged, the messages come back
            logger.exception("a batch of %s failed", self.queue_url)
        finally:
            self._slots.release()

    def _receive(self, count: int) -> list[QueuedMessage]:
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=count,
            WaitTimeSeconds=self.wait_seconds, AttributeNames=["All"],
        )
        return [
            QueuedMessage(m["MessageId"], m["ReceiptHandle"], m["Body"], m.get("Attributes", {}), m.get("MD5OfBody", ""))
            for m in response.get("Messages", [])
        ]

    def _invoke(self, messages: list[QueuedMessage]) -> None:
        try:
            result = self.function.invoke(sqs_event(messages, self.queue_arn), wait_for_slot=True)
            failed = {item["itemIdentifier"] for item in (result or {}).get("batchItemFailures", [])}
        except Throttled:
            failed = {m.message_id for m in messages}
        except Exception as error:  # the whole batch failed: every record comes back
            logger.warning("%s failed a batch: %s", self.function.name, error)
            failed = {m.message_id for m in messages}
        done = [m for m in messages if m.message_id not in failed]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(done)],
            )
