"""Runs the server: the HTTP API and the delivery engine on one event loop."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn

from devstack.qstash.api import build_app
from devstack.qstash.engine import Clock, Engine
from devstack.qstash.signing import DEV_CURRENT_SIGNING_KEY, DEV_NEXT_SIGNING_KEY, DEV_TOKEN
from devstack.qstash.store import Store

logger = logging.getLogger("devstack.qstash")


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    db: Path = Path(".devstack/qstash.sqlite3")
    backoff_scale: float = 1.0
    token: str = DEV_TOKEN
    current_signing_key: str = DEV_CURRENT_SIGNING_KEY
    next_signing_key: str = DEV_NEXT_SIGNING_KEY
    clock: Clock = field(default_factory=Clock)


class QStashServer:
    """`python -m devstack.qstash`, or in-process: `with QStashServer(config) as server: ...`."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._uvicorn: uvicorn.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self.engine: Engine | None = None

    @property
    def url(self) -> str:
        return f"http://{self.config.host}:{self.config.port}"

    @property
    def clock(self) -> Clock:
        return self.config.clock

    async def serve(self) -> None:
        store = Store(self.config.db)
        self.engine = Engine(
            store,
            backoff_scale=self.config.backoff_scale,
            clock=self.config.clock,
            default_keys=(self.config.current_signing_key, self.config.next_signing_key),
        )
        app = build_app(self.engine, self.config.token)
        self._uvicorn = uvicorn.Server(
            uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=2)
        )
        self._loop = asyncio.get_running_loop()
        engine_task = asyncio.create_task(self.engine.run())
        try:
            sockets = [self._socket] if self._socket else None
            if sockets is None:
                self._uvicorn.config.host, self._uvicorn.config.port = self.config.host, self.config.port
            serve = asyncio.create_task(self._uvicorn.serve(sockets=sockets))
            while not self._uvicorn.started and not serve.done():
                await asyncio.sleep(0.01)
            self._ready.set()
            await serve
        finally:
            await self.engine.stop()
            engine_task.cancel()
            await asyncio.gather(engine_task, return_exceptions=True)
            store.close()

    # --- in-process use (tests, benchmarks) --------------------------------------------
    def start(self) -> QStashServer:
        """Serve on a background thread; a port of 0 picks a free one."""
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((self.config.host, self.config.port))
        self.config.port = self._socket.getsockname()[1]
        self._thread = threading.Thread(target=lambda: asyncio.run(self.serve()), name="qstash", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the QStash server did not start")
        return self

    def stop(self) -> None:
        if self._uvicorn is not None:
            self._uvicorn.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def wake(self) -> None:
        """Make the engine look again now (after a test advanced the clock)."""
        if self._loop is not None and self.engine is not None:
            self._loop.call_soon_threadsafe(self.engine.wake)

    def settle(self, timeout: float = 10.0) -> None:
        """Until the engine has looked at everything again (two passes of its loop and one
        of its schedules, from now) and no delivery is in flight: after it, whatever was
        due has been delivered, and whatever was not delivered was held on purpose."""
        engine, loop = self.engine, self._loop
        assert engine is not None and loop is not None

        async def settled() -> None:
            passes, schedules = engine.passes, engine.schedule_passes
            while engine.passes < passes + 2 or engine.schedule_passes < schedules + 1 or engine.in_flight:
                engine.wake()
                await asyncio.sleep(0.01)

        asyncio.run_coroutine_threadsafe(settled(), loop).result(timeout)

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.wake()

    def __enter__(self) -> QStashServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
