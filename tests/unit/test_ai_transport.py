"""The router's HTTP pool (courier.ai.transport): kept-alive connections reused, one the server
closed while idle never reused, timeouts and refusals told apart."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from courier.ai.transport import Transport, TransportError


class Upstream:
    """Answers POSTs with the client's port; `close_after` closes the connection after that
    many answers without saying so (as a server whose idle timeout ran out does)."""

    def __init__(self, close_after: int = 0, delay: float = 0.0) -> None:
        self.ports: list[int] = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                upstream.ports.append(self.client_address[1])
                time.sleep(delay)
                answer = body.upper()
                self.send_response(200)
                self.send_header("Content-Length", str(len(answer)))
                self.send_header("X-Seen", self.path)
                self.end_headers()
                self.wfile.write(answer)
                if close_after and len(upstream.ports) % close_after == 0:
                    self.close_connection = True

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream()
    yield server
    server.stop()


def test_one_connection_serves_every_sequential_request(upstream: Upstream) -> None:
    transport = Transport()
    replies = [transport.post(f"{upstream.url}/v1/chat?x=1", {"content-type": "text/plain"}, f"hi {n}".encode(), 5) for n in range(5)]
    assert [r.data for r in replies] == [f"HI {n}".encode() for n in range(5)]
    assert replies[0].status == 200 and replies[0].headers["x-seen"] == "/v1/chat?x=1"
    assert len(set(upstream.ports)) == 1


def test_a_connection_the_server_closed_while_idle_is_not_reused() -> None:
    server = Upstream(close_after=1)
    try:
        transport = Transport()
        for n in range(3):
            assert transport.post(server.url + "/", {}, b"again", 5).data == b"AGAIN", n
            time.sleep(0.05)  # idle: the server's close reaches the client
        assert len(set(server.ports)) == 3
    finally:
        server.stop()


def test_threads_each_get_a_connection_and_all_answers_are_theirs(upstream: Upstream) -> None:
    transport = Transport(connections_per_host=4)
    answers: dict[int, bytes] = {}

    def call(n: int) -> None:
        answers[n] = transport.post(upstream.url + "/", {}, f"t{n}".encode(), 5).data

    threads = [threading.Thread(target=call, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == {n: f"T{n}".encode() for n in range(16)}


def test_a_slow_answer_is_a_timeout_and_a_refused_connection_a_connection_error() -> None:
    slow = Upstream(delay=1.0)
    try:
        with pytest.raises(TransportError) as caught:
            Transport().post(slow.url + "/", {}, b"x", 0.2)
        assert caught.value.code == "timeout" and "no answer within 0.2 s" in str(caught.value)
    finally:
        slow.stop()
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with pytest.raises(TransportError) as caught:
        Transport().post(f"http://127.0.0.1:{port}/", {}, b"x", 1)
    assert caught.value.code == "connection_error"
    with pytest.raises(TransportError):
        Transport().post("ftp://127.0.0.1/", {}, b"x", 1)
