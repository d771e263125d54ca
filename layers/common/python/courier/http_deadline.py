"""An httpx transport whose timeout is a total deadline, not a per-read one.

httpx's timeouts bound each socket operation: a server that sends a byte every few seconds
never trips a 20 s read timeout, and holds a worker until Lambda's own timeout ends the
whole invocation. Here every connect, write and read is given only what is left of one
deadline, so a request, its redirects and its body together take at most `timeout`.
"""

from __future__ import annotations

import math
import ssl
import time
from typing import Any

import httpcore
import httpx


class DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, deadline: float) -> None:
        self._inner = inner
        self._deadline = deadline

    def _left(self, timeout: float | None, error: type[Exception]) -> float:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise error("the request's total time limit passed")
        return left if timeout is None else min(timeout, left)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(ssl_context, server_hostname, self._left(timeout, httpcore.ConnectTimeout))
        return DeadlineStream(inner, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore.SyncBackend):
    def __init__(self, deadline: float) -> None:
        self.deadline = deadline

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise httpcore.ConnectTimeout("the request's total time limit passed")
        timeout = left if timeout is None else min(timeout, left)
        stream = super().connect_tcp(host, port, timeout, local_address, socket_options)
        return DeadlineStream(stream, self.deadline)


class DeadlineTransport(httpx.HTTPTransport):
    """httpx's own transport (its error mapping, its pool) over a deadline-keeping backend."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        if not math.isfinite(seconds) or seconds <= 0:
            raise ValueError("a deadline is a positive number of seconds")
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(), network_backend=DeadlineBackend(time.monotonic() + seconds),
        )


def deadline_client(seconds: float, *, connect: float | None = None) -> httpx.Client:
    """A client whose every request ends within `seconds` of now, whatever the server does."""
    timeout = httpx.Timeout(seconds, connect=min(connect or seconds, seconds))
    return httpx.Client(transport=DeadlineTransport(seconds), timeout=timeout, follow_redirects=False)
