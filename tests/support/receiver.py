"""A destination for QStash deliveries on loopback that records what arrives.

Answers are scripted per path (status, headers, body, delay), so tests can make a
destination fail, throttle, hang or refuse for good.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer

from devstack.runtime.loopback_http import LoopbackHandler


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    #: Arrival order across all paths, taken when the request is read: the list itself is in
    #: the order answers were *written*, and two handler threads may finish out of order.
    arrived: int = 0
    #: When its answer began to be written (before the sender can see it, so a request the
    #: sender makes after this one's answer always has a later `started`); `started`: when it was read.
    at: float = field(default_factory=time.time)
    started: float = 0.0


@dataclass
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    delay: float = 0.0


class Receiver:
    def __init__(self, port: int = 0) -> None:
        self.received: list[Received] = []
        self._answers: dict[str, deque[Answer]] = defaultdict(deque)
        self._active: dict[str, int] = defaultdict(int)
        self._arrivals = 0
        #: The most requests a path was answering at the same time.
        self.peak_concurrency: dict[str, int] = defaultdict(int)
        self._lock = threading.Condition()
        receiver = self

        class Handler(LoopbackHandler):

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?")[0]
                started = time.time()
                with receiver._lock:
                    queue = receiver._answers.get(path)
                    answer = queue.popleft() if queue else Answer()
                    receiver._active[path] += 1
                    receiver.peak_concurrency[path] = max(receiver.peak_concurrency[path], receiver._active[path])
                    receiver._arrivals += 1
                    arrived = receiver._arrivals
                if answer.delay:
                    time.sleep(answer.delay)
                answered = time.time()
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                with receiver._lock:
                    receiver._active[path] -= 1
                    receiver.received.append(Received(self.command, self.path, dict(self.headers.items()), body, arrived, at=answered, started=started))
                    receiver._lock.notify_all()

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def script(self, path: str, *answers: Answer) -> None:
        with self._lock:
            self._answers[path].extend(answers)

    def at(self, path: str) -> list[Received]:
        """What reached `path` and was answered, in the order it arrived."""
        with self._lock:
            return sorted((r for r in self.received if r.path.split("?")[0] == path), key=lambda r: r.arrived)

    def wait_for(self, predicate: Callable[[list[Received]], bool], timeout: float = 10.0) -> list[Received]:
        """Block until `predicate(received)` holds; fail the test (AssertionError) if it never does."""
        deadline = time.time() + timeout
        with self._lock:
            while not predicate(self.received):
                remaining = deadline - time.time()
                if remaining <= 0:
                    raise AssertionError(f"timed out; received so far: {[(r.method, r.path) for r in self.received]}")
                self._lock.wait(remaining)
            return list(self.received)

    def wait_count(self, path: str, count: int, timeout: float = 10.0) -> list[Received]:
        self.wait_for(lambda got: len([r for r in got if r.path.split("?")[0] == path]) >= count, timeout)
        return self.at(path)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
