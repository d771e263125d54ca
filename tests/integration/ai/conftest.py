"""A fake model server on loopback and a router whose catalog points every deployment at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from courier.ai.retries import Cooldowns
from courier.ai.router import Router
from devstack.model_server import ModelServer
from tests.support.models import fake_catalog


@pytest.fixture(scope="session")
def model_server() -> Iterator[ModelServer]:
    with ModelServer() as server:
        yield server


@pytest.fixture
def upstream(model_server: ModelServer) -> Iterator[ModelServer]:
    model_server.reset()
    model_server.latency = 0.0
    yield model_server
    model_server.reset()


class Sleeps(list):
    """Waits the router asked for, recorded instead of slept, so tests run fast."""

    def __call__(self, seconds: float) -> None:
        self.append(round(seconds, 3))


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make_router(upstream: ModelServer, sleeps: Sleeps) -> Callable[..., Router]:
    def make(clock: Callable[[], float] | None = None, **sections: Any) -> Router:
        catalog = fake_catalog(upstream.url, **sections)
        kwargs: dict[str, Any] = {"sleep": sleeps}
        if clock is not None:
            kwargs.update(clock=clock, cooldowns=Cooldowns(clock))
        return Router(lambda: catalog, **kwargs)

    return make


@pytest.fixture
def router(make_router: Callable[..., Router]) -> Router:
    return make_router()
