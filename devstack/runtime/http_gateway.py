"""HTTP front doors for local functions: a Function URL, or an API Gateway HTTP API.

Each request becomes a payload-2.0 event for the real handler, and its answer becomes
the HTTP response, with Lambda's own errors (429 throttled, 502 failed or timed out).
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from typing import Any

from devstack.runtime.events import function_url_event, http_api_event
from devstack.runtime.invoke import Invocable, Throttled, TimedOut
from devstack.runtime.loopback_http import LoopbackHandler
from infra.config import CORS_HEADERS, CORS_METHODS

logger = logging.getLogger("devstack.runtime")
#: Picks the function for a request (method, path); None -> 404, as an HTTP API without a route.
Router = Callable[[str, str], "tuple[Invocable, str] | None"]


#: A synchronous invocation's request payload limit (the event, so a little less of body).
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024


class LambdaHttpServer:
    def __init__(self, router: Router, *, kind: str, host: str = "127.0.0.1", port: int = 0, cors_origins: tuple[str, ...] = ()) -> None:
        """`kind`: "function_url" or "http_api" (decides the event's shape)."""
        self.kind = kind
        self.cors_origins = cors_origins
        gateway = self

        class Handler(LoopbackHandler):

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_PAYLOAD_BYTES:  # Lambda refuses it before the function runs
                    self.close_connection = True
                    status, headers, payload = _error(413, "Request Entity Too Large")
                else:
                    body = self.rfile.read(length) if length else None
                    path, _, query = self.path.partition("?")
                    status, headers, payload = gateway.handle(self.command, path, query, dict(self.headers.items()), body, self.client_address[0])
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

            def __getattr__(self, name: str) -> Any:
                # TRACE, CONNECT or any other method: the route decides (an HTTP API's
                # $default route takes ANY method), never http.server's HTML 501 page.
                if name.startswith("do_"):
                    return self._serve
                raise AttributeError(name)

            def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
                """A request too malformed to reach a function, answered as API Gateway does: JSON."""
                status, headers, payload = _error(code, message or self.responses.get(code, ("Error",))[0])
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Connection", "close")
                self.end_headers()
                if self.command != "HEAD" and code >= 200 and code not in (204, 304):
                    self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self._router = router
        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"{kind}-{self.port}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def handle(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes | None, source_ip: str,
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        cors = self._cors(headers)
        if cors and method == "OPTIONS" and "access-control-request-method" in {k.lower() for k in headers}:
            # API Gateway answers a preflight itself when the API has CORS configured.
            return 204, cors, b""
        status, response_headers, payload = self._invoke(method, path, query, headers, body, source_ip)
        return status, response_headers + cors, payload

    def _cors(self, headers: dict[str, str]) -> list[tuple[str, str]]:
        """The HTTP API's CORS configuration (infra.constructs.http_api), as API Gateway applies it."""
        origin = next((v for k, v in headers.items() if k.lower() == "origin"), None)
        if not origin or not self.cors_origins or ("*" not in self.cors_origins and origin not in self.cors_origins):
            return []
        return [
            ("Access-Control-Allow-Origin", "*" if "*" in self.cors_origins else origin),
            ("Access-Control-Allow-Methods", ",".join(CORS_METHODS)),
            ("Access-Control-Allow-Headers", ",".join(CORS_HEADERS)),
            ("Access-Control-Max-Age", "3600"),
            ("Vary", "Origin"),
        ]

    def _invoke(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes | None, source_ip: str,
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        routed = self._router(method, path)
        if routed is None:
            return _error(404, "Not Found")
        function, route_key = routed
        if self.kind == "function_url":
            event = function_url_event(method, path, query=query, headers=headers, body=body, source_ip=source_ip)
        else:
            event = http_api_event(method, path, query=query, headers=headers, body=body, route_key=route_key, source_ip=source_ip)
        try:
            result = function.invoke(event)
        except Throttled:
            return _error(429, "Too Many Requests")
        except TimedOut as error:
            logger.error("%s", error)
            return _error(502 if self.kind == "function_url" else 503, "Service Unavailable" if self.kind != "function_url" else "Internal Server Error")
        except Exception:
            logger.exception("%s failed", function.name)
            return _error(502, "Internal Server Error")
        return _response(result)

    def start(self) -> LambdaHttpServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _response(result: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """Lambda's payload 2.0 response rules, including a bare dict meaning a JSON 200."""
    if not isinstance(result, dict) or "statusCode" not in result:
        return 200, [("Content-Type", "application/json")], json.dumps(result).encode()
    body = result.get("body") or ""
    payload = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    headers = [(k, str(v)) for k, v in (result.get("headers") or {}).items() if k.lower() != "content-length"]
    headers += [("Set-Cookie", c) for c in result.get("cookies") or []]
    return int(result["statusCode"]), headers, payload


def _error(status: int, message: str) -> tuple[int, list[tuple[str, str]], bytes]:
    return status, [("Content-Type", "application/json")], json.dumps({"message": message}).encode()
