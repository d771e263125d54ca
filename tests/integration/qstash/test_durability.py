"""`kill -9` with messages pending, delayed, queued and mid-delivery loses none of them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from qstash import QStash

from devstack.qstash import DEV_TOKEN
from tests.support.receiver import Answer, Receiver
from tests.support.waiting import eventually

ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(db: Path, port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack.qstash", "--port", str(port), "--db", str(db), "--backoff-scale", "0.001"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise AssertionError(f"server did not start: {process.stdout.read() if process.stdout else ''}")


def test_kill_9_then_restart_loses_nothing(tmp_path: Path) -> None:
    db, port = tmp_path / "qstash.sqlite3", free_port()
    with Receiver() as receiver:
        server = start_server(db, port)
        client = QStash(DEV_TOKEN, base_url=f"http://127.0.0.1:{port}", retry=False)
        # Mid-delivery: the destination holds these when the server dies.
        receiver.script("/slow", *[Answer(200, delay=2.0)] * 5)
        slow = {f"slow-{i}" for i in range(5)}
        slow_ids = [client.message.publish(url=receiver.url("/slow"), body=body).message_id for body in slow]
        # Pending in a retry: the first attempt fails.
        receiver.script("/retry", Answer(500))
        client.message.publish(url=receiver.url("/retry"), body="retry-0", retries=3)
        # Delayed: due after the restart.
        client.message.publish(url=receiver.url("/delayed"), body="delayed-0", delay="3s")
        # Queued behind a paused queue.
        client.queue.upsert("held", parallelism=1, paused=True)
        queued = [f"queued-{i}" for i in range(5)]
        for body in queued:
            client.message.enqueue(queue="held", url=receiver.url("/queued"), body=body)
        receiver.wait_for(lambda got: sum(1 for r in got if r.path == "/retry") >= 1)
        eventually(lambda: all(any(e.state.value == "ACTIVE" for e in client.log.list(filter={"message_id": m}).logs) for m in slow_ids),
                   timeout=10, what="every slow delivery in flight")
        os.kill(server.pid, signal.SIGKILL)
        server.wait(10)
        assert {r.body.decode() for r in receiver.at("/slow")} == set()  # none finished

        server = start_server(db, port)
        try:
            client.queue.resume("held")
            # Each slow message twice: the attempt the kill cut off (the receiver still logs
            # it) and the redelivery after the restart (at-least-once).
            receiver.wait_for(
                lambda got: all(sum(1 for r in got if r.path == "/slow" and r.body.decode() == b) >= 2 for b in slow)
                and len([r for r in got if r.path == "/retry"]) >= 2
                and len([r for r in got if r.path == "/delayed"]) >= 1
                and len([r for r in got if r.path == "/queued"]) >= len(queued),
                timeout=30,
            )
            assert [r.body.decode() for r in receiver.at("/queued")] == queued  # still in order
            assert [r.headers["Upstash-Retried"] for r in receiver.at("/retry")][:2] == ["0", "1"]
        finally:
            server.terminate()
            server.wait(10)
