"""HTTP to the model deployments: one urllib3 pool per process, kept across warm
invocations, so a warm Lambda reuses its TLS connections.

urllib3 rather than httpx: on loopback it adds about half of httpx's per-request
overhead (0.24 ms against 0.50 ms a request, measured here while choosing), and the
router's added latency is the product.
Retries are the router's business, so the pool never retries on its own. The pool (and
urllib3 with it) is made on the first call, so the handler's import does not pay for it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

CONNECT_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    data: bytes


class TransportError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Transport:
    def __init__(self, connections_per_host: int = 16) -> None:
        self._connections_per_host = connections_per_host
        self._pool: Any = None
        self._lock = threading.Lock()

    def post(self, url: str, headers: dict[str, str], body: bytes, timeout: float) -> Reply:
        import urllib3
        from urllib3.exceptions import HTTPError, NewConnectionError
        from urllib3.exceptions import TimeoutError as Urllib3Timeout

        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    self._pool = urllib3.PoolManager(num_pools=32, maxsize=self._connections_per_host, retries=False, block=False)
        try:
            response = self._pool.request(
                "POST",
                url,
                body=body,
                headers=headers,
                timeout=urllib3.Timeout(connect=min(CONNECT_TIMEOUT_SECONDS, timeout), read=timeout),
                redirect=False,
            )
        except NewConnectionError as error:  # a subclass of the connect timeout, for history's sake
            raise TransportError("connection_error", f"cannot connect: {_reason(error)}") from None
        except Urllib3Timeout:
            raise TransportError("timeout", f"no answer within {timeout:.1f} s") from None
        except HTTPError as error:
            raise TransportError("connection_error", f"{type(error).__name__}: {_reason(error)}") from None
        return Reply(response.status, {k.lower(): v for k, v in response.headers.items()}, response.data)


def _reason(error: Exception) -> str:
    # urllib3 puts the URL (and nothing secret) in its messages; keep them short.
    return str(getattr(error, "reason", None) or error)[:200]
