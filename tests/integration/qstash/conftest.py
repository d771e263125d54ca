"""The local QStash server, in-process on a free loopback port, driven by the official SDK."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from qstash import QStash
from qstash import Receiver as SignatureReceiver

from devstack.qstash import DEV_CURRENT_SIGNING_KEY, DEV_NEXT_SIGNING_KEY, DEV_TOKEN, QStashServer, ServerConfig
from tests.support.receiver import Received, Receiver

#: Retry delays in tests: QStash's real e^(2.5n) seconds, times this.
BACKOFF_SCALE = 0.001


@dataclass
class Harness:
    server: QStashServer
    client: QStash
    receiver: Receiver

    def verify(self, delivery: Received, url: str, keys: tuple[str, str] | None = None) -> None:
        """Every delivery must pass the official SDK's Receiver for the URL it was sent to."""
        current, next_ = keys or (DEV_CURRENT_SIGNING_KEY, DEV_NEXT_SIGNING_KEY)
        SignatureReceiver(current, next_).verify(
            signature=delivery.headers["Upstash-Signature"], body=delivery.body.decode(), url=url
        )

    def restart(self) -> None:
        self.server.stop()
        self.server = QStashServer(self.server.config)
        self.server.config.port = 0
        self.server.start()
        self.client = QStash(DEV_TOKEN, base_url=self.server.url, retry=False)


@pytest.fixture
def qstash(tmp_path: Path) -> Iterator[Harness]:
    with Receiver() as receiver:
        server = QStashServer(ServerConfig(port=0, db=tmp_path / "qstash.sqlite3", backoff_scale=BACKOFF_SCALE)).start()
        harness = Harness(server, QStash(DEV_TOKEN, base_url=server.url, retry=False), receiver)
        try:
            yield harness
        finally:
            harness.server.stop()
