"""Benchmark of the local QStash server: publish rate, delivery rate, publish-to-delivery latency.

The server runs as its own process (`python -m devstack.qstash`), as apps use it; this
process publishes with the official `qstash` SDK and receives on loopback with a small
asyncio HTTP server that checks every signature with the SDK's Receiver.

    python -m bench.qstash.run [--messages N] [--publishers P]

Writes bench/results/qstash.json and bench/results/qstash.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from qstash import QStash, Receiver

from bench.measure import free_port, percentile
from devstack.qstash import DEV_CURRENT_SIGNING_KEY, DEV_NEXT_SIGNING_KEY, DEV_TOKEN

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"
TARGET_DELIVERIES_PER_SECOND = 500


class LoopbackReceiver:
    """Minimal HTTP/1.1 keep-alive server: records when each message arrives, answers 200."""

    def __init__(self) -> None:
        self.arrivals: dict[int, float] = {}
        self.bad_signatures = 0
        self.done = threading.Event()
        self.expected = 0
        self._verifier = Receiver(DEV_CURRENT_SIGNING_KEY, DEV_NEXT_SIGNING_KEY)
        self._loop = asyncio.new_event_loop()
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        threading.Thread(target=self._run, daemon=True).start()

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(asyncio.start_server(self._client, sock=self._sock))
        self._loop.run_forever()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                headers = {}
                for line in head.decode("latin-1").split("\r\n")[1:]:
                    if ":" in line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                arrived = time.perf_counter()
                try:
                    self._verifier.verify(signature=headers.get("upstash-signature", ""), body=body.decode(), url=self.url())
                except Exception:
                    self.bad_signatures += 1
                self.arrivals.setdefault(int(body), arrived)
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                if len(self.arrivals) >= self.expected:
                    self.done.set()
        except (asyncio.IncompleteReadError, ConnectionResetError):
            writer.close()


def publish_all(base_url: str, numbers: range, publishers: int, **options: object) -> dict[int, float]:
    """Publish one message per number from `publishers` threads; when each publish started."""
    started: dict[int, float] = {}
    local = threading.local()
    receiver_url = options.pop("url")

    def publish(number: int) -> None:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = QStash(DEV_TOKEN, base_url=base_url, retry=False)
        started[number] = time.perf_counter()
        client.message.publish(url=receiver_url, body=str(number), **options)

    with ThreadPoolExecutor(publishers) as pool:
        list(pool.map(publish, numbers))
    return started


def run(messages: int, publishers: int) -> dict[str, object]:
    receiver = LoopbackReceiver()
    port = free_port()
    with tempfile.TemporaryDirectory() as workdir:
        server = subprocess.Popen(
            [sys.executable, "-m", "devstack.qstash", "--port", str(port), "--db", f"{workdir}/q.db"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            base_url = f"http://127.0.0.1:{port}"
            _wait_for_port(port)
            # 1. Live: publish and deliver at once; latency from publish call to arrival.
            receiver.expected = messages
            begin = time.perf_counter()
            started = publish_all(base_url, range(messages), publishers, url=receiver.url())
            publish_seconds = time.perf_counter() - begin
            if not receiver.done.wait(120):
                raise RuntimeError(f"only {len(receiver.arrivals)} of {messages} delivered")
            latencies = [(receiver.arrivals[n] - started[n]) * 1000 for n in range(messages)]
            live_seconds = max(receiver.arrivals.values()) - begin
            # 2. Backlog: messages that all fall due at once; how fast the server drains them.
            receiver.arrivals.clear()
            receiver.done.clear()
            due = int(time.time()) + 2 + messages // 1000
            backlog = range(messages, 2 * messages)
            receiver.expected = messages
            publish_all(base_url, backlog, publishers, url=receiver.url(), not_before=due)
            if not receiver.done.wait(180):
                raise RuntimeError(f"backlog: only {len(receiver.arrivals)} of {messages} delivered")
            arrivals = sorted(receiver.arrivals.values())
            drain_seconds = arrivals[-1] - arrivals[0]
        finally:
            server.terminate()
            server.wait(10)
    drain_rate = messages / drain_seconds if drain_seconds else float("inf")
    return {
        "messages": messages,
        "publishers": publishers,
        "publish_per_second": round(messages / publish_seconds, 1),
        "live_deliveries_per_second": round(messages / live_seconds, 1),
        "backlog_deliveries_per_second": round(drain_rate, 1),
        "latency_ms_p50": round(statistics.median(latencies), 2),
        "latency_ms_p99": round(percentile(latencies, 0.99), 2),
        "bad_signatures": receiver.bad_signatures,
        "target_deliveries_per_second": TARGET_DELIVERIES_PER_SECOND,
        "target_met": min(drain_rate, messages / live_seconds) >= TARGET_DELIVERIES_PER_SECOND,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
    }


def _wait_for_port(port: int) -> None:
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the QStash server did not start")


def write(result: dict[str, object]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "qstash.json").write_text(json.dumps(result, indent=2) + "\n")
    rows = [
        (f"publish rate (SDK, {result['publishers']} threads)", f"{result['publish_per_second']} msg/s"),
        ("delivery rate, live (publish + deliver)", f"{result['live_deliveries_per_second']} msg/s"),
        ("delivery rate, backlog drain", f"{result['backlog_deliveries_per_second']} msg/s"),
        ("publish-to-delivery latency p50", f"{result['latency_ms_p50']} ms"),
        ("publish-to-delivery latency p99", f"{result['latency_ms_p99']} ms"),
        ("signatures rejected by qstash.Receiver", str(result["bad_signatures"])),
    ]
    table = "\n".join(f"| {name} | {value} |" for name, value in rows)
    slowest = min(float(result["live_deliveries_per_second"]), float(result["backlog_deliveries_per_second"]))
    verdict = f"{'met' if result['target_met'] else 'MISSED'} ({slowest / TARGET_DELIVERIES_PER_SECOND:.2f} x the target at the slower of the two rates)"
    (RESULTS / "qstash.md").write_text(
        f"# Local QStash server benchmark\n\n{result['messages']} messages each phase; {result['machine']}.\n\n"
        f"| measure | value |\n|---|---|\n{table}\n\nTarget: at least {TARGET_DELIVERIES_PER_SECOND} deliveries a second: {verdict}.\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--publishers", type=int, default=8)
    args = parser.parse_args()
    result = run(args.messages, args.publishers)
    write(result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
