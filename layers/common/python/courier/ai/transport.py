"""HTTP to the model deployments: kept-alive connections per host, one pool per process,
kept across warm invocations, so a warm Lambda reuses its TLS connections.

The standard library's http.client under a pool of a few lines, not urllib3 or httpx: the
router's added latency is the product, and on loopback urllib3's layers cost about 0.25 ms a
request over http.client's own (0.57-0.67 ms against 0.32-0.38 ms, measured side by side
here; httpx about twice urllib3's). What urllib3 gave that matters is kept: a connection the
server closed while idle is never reused (`_dropped`), connect and read have their own
timeouts, TLS verifies the server against the system's CAs.
Retries are the router's business, so the pool never retries on its own.
"""

from __future__ import annotations

import http.client
import select
import ssl
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

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


Origin = tuple[str, str, int]  # scheme, host, port


class Transport:
    def __init__(self, connections_per_host: int = 16) -> None:
        self._connections_per_host = connections_per_host
        self._idle: dict[Origin, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()
        self._tls: ssl.SSLContext | None = None

    def post(self, url: str, headers: dict[str, str], body: bytes, timeout: float) -> Reply:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TransportError("connection_error", f"not an http(s) URL: {url[:200]}")
        origin = (parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connection = self._take(origin)
        try:
            if connection.sock is None:
                connection.timeout = min(CONNECT_TIMEOUT_SECONDS, timeout)
                connection.connect()
            assert connection.sock is not None
            connection.sock.settimeout(timeout)
            connection.request("POST", target or "/", body=body, headers=headers)  # one send: headers and body
            response = connection.getresponse()
            reply = Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        except TimeoutError:  # socket.timeout: connect or read
            connection.close()
            raise TransportError("timeout", f"no answer within {timeout:.1f} s") from None
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            raise TransportError("connection_error", f"{type(error).__name__}: {str(error)[:200]}") from None
        if response.will_close:
            connection.close()
        else:
            self._give_back(origin, connection)
        return reply

    def _take(self, origin: Origin) -> http.client.HTTPConnection:
        with self._lock:
            idle = self._idle.get(origin)
            while idle:
                connection = idle.pop()
                if not _dropped(connection):
                    return connection
                connection.close()
        scheme, host, port = origin
        if scheme == "https":
            return http.client.HTTPSConnection(host, port, context=self._context())
        return http.client.HTTPConnection(host, port)  # TCP_NODELAY set on connect

    def _give_back(self, origin: Origin, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(origin, [])
            if len(idle) < self._connections_per_host:
                idle.append(connection)
                return
        connection.close()

    def _context(self) -> ssl.SSLContext:
        if self._tls is None:  # loading the CAs takes milliseconds: once per process
            self._tls = ssl.create_default_context()
        return self._tls


def _dropped(connection: http.client.HTTPConnection) -> bool:
    """Whether an idle kept-alive connection was closed by the server: readable while idle
    means end of stream (or stray bytes), either way not reusable."""
    sock = connection.sock
    if sock is None:
        return False
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)
