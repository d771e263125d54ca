"""Delivery: the loop that starts what is due (FIFO queues, flow control), one delivery,
and settling it (delivered, retried with backoff, or dead-lettered)."""

from __future__ import annotations

import asyncio
import email.utils
import heapq
import itertools
import logging
import math
import time

import aiohttp
from yarl import URL

from devstack.qstash import signing
from devstack.qstash.engine.callbacks import Callbacks
from devstack.qstash.engine.scheduler import Scheduler
from devstack.qstash.engine.state import _Due
from devstack.qstash.model import Headers, Message, canonical_header
from devstack.qstash.retry_delay import RetryDelay

logger = logging.getLogger("devstack.qstash")

#: No retry waits longer than a day, whatever the expression or the destination says.
MAX_BACKOFF_SECONDS = 86400
MAX_RESPONSE_BODY = 1024 * 1024
USER_AGENT = "Upstash-QStash"


class Delivery(Scheduler, Callbacks):
    async def run(self) -> None:
        # aiohttp, not httpx: on this 2-core machine it delivers ~20x more requests a
        # second (bench/qstash), which is the difference between meeting and missing 500/s.
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self.max_concurrency, ttl_dns_cache=300),
            auto_decompress=False,
        )
        try:
            while not self._stopping:
                self._wakeup.clear()
                now = self.clock.ms()
                self._housekeeping()
                next_due = self._dispatch(now)
                self.passes += 1
                delay = 1.0
                if next_due is not None and len(self._inflight) < self.max_concurrency:
                    delay = min(delay, max(0.0, (next_due - self.clock.ms()) / 1000))
                if delay > 0:
                    try:
                        await asyncio.wait_for(self._wakeup.wait(), timeout=delay)
                    except TimeoutError:
                        pass
        finally:
            await self.stop()

    async def stop(self) -> None:
        self._stopping = True
        self._wakeup.set()
        tasks = list(self._inflight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _housekeeping(self) -> None:
        if time.monotonic() - self._last_housekeeping < 0.25:
            return
        self._last_housekeeping = time.monotonic()
        self.fire_due_schedules()
        self.schedule_passes += 1
        now = self.clock.ms()
        if int(time.monotonic()) % 60 == 0:
            with self.store.transaction():
                self.store.prune_dedup(now)
                self.store.prune_events()

    def _dispatch(self, now: int) -> int | None:
        """Start what is due and allowed; return when the next thing falls due (ms), if known."""
        # A key found at its limit holds every other message of it this pass, unread: with a
        # backlog behind one key, each delivery's end wakes this loop, and reading each
        # waiting message again (SQLite) made every pass cost the whole backlog.
        held: set[str] = set()
        while self._heap and self._heap[0].next_at <= now and len(self._inflight) < self.max_concurrency:
            due = heapq.heappop(self._heap)
            pending = self._pending.get(due.id)
            if pending is None or pending.next_at != due.next_at or due.id in self._inflight:
                continue  # stale heap entry
            key = pending.flow_key
            if key is not None and (key in held or not self._flow_allows(key)):
                held.add(key)
                self._blocked.append(due)
            elif not self._try_start(due.id):
                self._blocked.append(due)
        next_due = self._heap[0].next_at if self._heap else None
        for name, members in list(self._queue_members.items()):
            if not members:
                del self._queue_members[name]
                continue
            queue = self.store.get_queue(name)
            if queue is not None and queue.paused:
                continue
            # FIFO: only the oldest `parallelism` unfinished messages may run; a message
            # waiting for its retry holds its place and the ones behind it wait.
            for message_id in itertools.islice(members.values(), queue.parallelism if queue else 1):
                pending = self._pending[message_id]
                if message_id in self._inflight:
                    continue
                if pending.next_at > now:
                    next_due = pending.next_at if next_due is None else min(next_due, pending.next_at)
                elif len(self._inflight) < self.max_concurrency:
                    self._try_start(message_id)
        return next_due

    def _try_start(self, message_id: str) -> bool:
        message = self.store.get_message(message_id)
        if message is None:
            self._unindex(message_id)
            return True
        if message.flow and not self._flow_allows(message.flow.key):
            return False
        self._start(message)
        return True

    def _flow_allows(self, key: str) -> bool:
        """The key's own configuration decides (QStash's: the latest message's, or what is pinned)."""
        now = self.clock.time()
        allowed, retry_at = self.flows.allows(key, now)
        if retry_at is not None:
            asyncio.get_running_loop().call_later(max(0.001, retry_at - now), self.wake)
        return allowed

    def _start(self, message: Message) -> None:
        if message.flow:
            self.flows.started(message.flow.key, self.clock.time())
        self._inflight[message.id] = asyncio.get_running_loop().create_task(self._deliver(message))

    # --- one delivery -------------------------------------------------------------------
    async def _deliver(self, message: Message) -> None:
        status: int | None = None
        response_headers: Headers = {}
        response_body = b""
        error: str | None = None
        try:
            self._event(message, "ACTIVE", self.clock.ms())
            assert self._session is not None
            async with self._session.request(
                message.method,
                URL(message.url, encoded=True),  # exactly as published: never re-encoded
                data=message.body or None,
                headers=self._delivery_headers(message),
                skip_auto_headers=("Content-Type",),
                timeout=aiohttp.ClientTimeout(total=message.timeout),
                allow_redirects=False,
            ) as response:
                status = response.status
                response_body = await response.content.read(MAX_RESPONSE_BODY)
                for name, value in response.headers.items():
                    response_headers.setdefault(canonical_header(name), []).append(value)
                if not 200 <= status < 300:
                    error = f"{status} {response.reason or ''}".strip()
        except TimeoutError:
            error = f"timeout after {message.timeout:g}s"
        except aiohttp.ClientError as failure:
            error = f"{type(failure).__name__}: {failure}"
        except asyncio.CancelledError:
            return  # server stopping: the row stays, so the message is delivered after restart
        finally:
            self._inflight.pop(message.id, None)
            if message.flow:
                self.flows.finished(message.flow.key)
        try:
            if message.id in self._cancelled_inflight:
                self._cancelled_inflight.discard(message.id)
                return
            self._settle(message, status, response_headers, response_body, error)
        except Exception:  # a bug here must not kill the loop; the row stays for a redelivery
            logger.exception("settling %s failed", message.id)
        finally:
            self.wake()

    def _delivery_headers(self, message: Message) -> list[tuple[str, str]]:
        headers = [(name, value) for name, values in message.headers.items() for value in values]
        headers += [
            ("Upstash-Signature", signing.sign(self.keys[0], url=message.url, body=message.body)),
            ("Upstash-Message-Id", message.id),
            ("Upstash-Retried", str(message.retried)),
            ("User-Agent", USER_AGENT),
        ]
        if message.schedule_id:
            headers.append(("Upstash-Schedule-Id", message.schedule_id))
        if message.topic:
            headers.append(("Upstash-Topic-Name", message.topic))
        if message.kind != "message" and message.source_message_id:
            headers.append(("Upstash-Callback-Source-Message-Id", message.source_message_id))
        return headers

    def _settle(self, message: Message, status: int | None, response_headers: Headers, body: bytes, error: str | None) -> None:
        now = self.clock.ms()
        response = {"responseStatus": status, "responseHeader": response_headers, "responseBody": _text(body)}
        non_retryable = status == 489 and _header(response_headers, "upstash-nonretryable-error") == "true"
        with self.store.transaction():
            if error is None:
                self.store.delete_message(message.id)
                self._unindex(message.id)
                self._event(message, "DELIVERED", now, response)
                self.keep_delivered(message)
                self._callback(message, status, response_headers, body, now)
                self._schedule_outcome(message, "SUCCESS")
                return
            self._event(message, "ERROR", now, {**response, "error": error})
            if non_retryable or message.retried >= message.max_retries:
                self.store.delete_message(message.id)
                self._unindex(message.id)
                dlq_id = self.store.insert_dlq(message, status=status or 0, response_headers=response_headers,
                                               response_body=body, now=now)
                self._event(message, "FAILED", now, {**response, "error": error, "dlqId": dlq_id})
                self._callback(message, status, response_headers, body, now)
                self._callback(message, status, response_headers, body, now, dlq_id=dlq_id)
                self._schedule_outcome(message, "FAIL")
                return
            self._callback(message, status, response_headers, body, now)
            message.retried += 1
            message.next_at = now + int(self._backoff(message, response_headers, now) * 1000)
            self.store.update_message(message)
            entry = self._pending[message.id]
            entry.next_at = message.next_at
            if not message.queue:
                heapq.heappush(self._heap, _Due(message.next_at, entry.seq, message.id))
            self._event(message, "RETRY", now, {"nextDeliveryTime": message.next_at, "error": error})

    def _backoff(self, message: Message, response_headers: Headers, now: int) -> float:
        """Seconds to the next attempt: the destination's hint, or the message's expression or
        e^(2.5n) times the backoff scale."""
        hinted = _retry_hint(response_headers, now)
        if hinted is not None:
            # The destination named its wait (a lease, a rate limit): kept as it is,
            # however the server's own schedule is scaled.
            return min(hinted, MAX_BACKOFF_SECONDS)
        if message.retry_delay:
            seconds = RetryDelay(message.retry_delay).milliseconds(message.retried - 1) / 1000
        else:
            seconds = math.exp(2.5 * message.retried)
        return min(seconds, MAX_BACKOFF_SECONDS) * self.backoff_scale


def _header(headers: Headers, name: str) -> str | None:
    for key, values in headers.items():
        if key.lower() == name and values:
            return values[-1].strip().lower()
    return None


def _text(body: bytes) -> str:
    return body.decode("utf-8", errors="replace")


def _retry_hint(headers: Headers, now_ms: int) -> float | None:
    """Seconds the destination asked us to wait: Retry-After (seconds or a date), X-RateLimit-Reset."""
    retry_after = _header(headers, "retry-after")
    if retry_after:
        if retry_after.replace(".", "", 1).isdigit():
            return float(retry_after)
        try:
            moment = email.utils.parsedate_to_datetime(retry_after)
            return max(0.0, moment.timestamp() - now_ms / 1000)
        except (TypeError, ValueError):
            pass
    reset = _header(headers, "x-ratelimit-reset")
    if reset and reset.replace(".", "", 1).isdigit():
        value = float(reset)
        if value > 1e12:  # unix milliseconds
            return max(0.0, value / 1000 - now_ms / 1000)
        if value > 1e9:  # unix seconds
            return max(0.0, value - now_ms / 1000)
        return value
    return None

