"""Outbound timeouts are totals: a server that trickles its answer cannot hold a worker.

Each server below sends a byte at a time, each well within any per-read timeout, for far
longer than the request's limit. Without a total deadline the client reads all of it and
succeeds; with one it gives up with a timeout before the server is done.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from courier.network import NetworkPolicy

BYTES = 40
GAP_SECONDS = 0.1  # 40 bytes over 4 s, each read answered in 0.1 s


@contextmanager
def trickling_server(*, in_headers: bool) -> Iterator[tuple[str, list[int]]]:
    """An HTTP server on loopback sending its body (or its headers) one byte per GAP."""
    listener = socket.create_server(("127.0.0.1", 0))
    sent: list[int] = [0]
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(5)
        try:
            connection, _ = listener.accept()
        except OSError:
            return
        with connection:
            connection.recv(65536)
            head = f"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {BYTES}\r\nx-pad: ".encode()
            trickle = b"x" * BYTES

            def drip() -> None:
                for byte in trickle:
                    if stop.is_set():
                        return
                    connection.sendall(bytes([byte]))
                    sent[0] += 1
                    time.sleep(GAP_SECONDS)

            try:
                if in_headers:  # a header value a byte at a time, then the body at once
                    connection.sendall(head)
                    drip()
                    connection.sendall(b"\r\n\r\n" + trickle)
                else:
                    connection.sendall(head + b"1\r\n\r\n")
                    drip()
            except OSError:  # the client hung up: what a deadline does
                return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/slow", sent
    finally:
        stop.set()
        listener.close()
        thread.join(10)


@pytest.mark.parametrize("in_headers", [False, True], ids=["body", "headers"])
def test_a_trickling_server_meets_the_total_deadline(in_headers: bool) -> None:
    with trickling_server(in_headers=in_headers) as (url, sent):
        with pytest.raises(httpx.TimeoutException):
            NetworkPolicy.local().send("GET", url, timeout=1.0, max_bytes=BYTES * 2)
        assert sent[0] < BYTES, "the client read the whole trickle: its timeout was per read"


def test_the_deadline_spans_the_streamed_body() -> None:
    with trickling_server(in_headers=False) as (url, sent):
        received = b""
        with pytest.raises(httpx.TimeoutException):
            with NetworkPolicy.local().stream("GET", url, timeout=1.0) as response:
                for chunk in response.iter_bytes():
                    received += chunk
        assert 0 < len(received) < BYTES and sent[0] < BYTES
