"""Shared fixtures: local AWS (moto in server mode on loopback) and a clean environment."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

# Before anything imports boto3 or the CDK: no real AWS, no credentials, no Node warning.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "POWERTOOLS_METRICS_NAMESPACE": "CourierTest",
        # `courier` finds no local stack unless a test starts one (a developer's `make dev`
        # at the repository's root would otherwise answer the CLI's tests).
        "COURIER_DEV_DIR": "/nonexistent/courier-dev",
    }
)
for _name in ("AWS_PROFILE", "QSTASH_TOKEN", "QSTASH_CURRENT_SIGNING_KEY", "QSTASH_NEXT_SIGNING_KEY",
              "AZURE_AI_FOUNDRY_ENDPOINT", "COURIER_AI_CATALOG", "COURIER_AI_CATALOG_PARAMETER", "MODEL_KEYS_SECRET_REF"):
    os.environ.pop(_name, None)


@pytest.fixture(autouse=True)
def fresh_router() -> Iterator[None]:
    """Each test starts with no model catalog, connections or cooldowns left by another."""
    from courier.ai.router import reset_shared_router

    reset_shared_router()
    yield
    reset_shared_router()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """Local AWS on 127.0.0.1 (a random free port) for the whole session: the same
    atomic-per-request moto the local stack runs (devstack.local_aws)."""
    from devstack.local_aws import LocalAws

    server = LocalAws().start()
    yield server.url
    server.stop()


@pytest.fixture
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Points boto3 (and Powertools) at the moto server, with a fresh state and no caches."""
    import urllib.request

    from aws_lambda_powertools.utilities import parameters

    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    urllib.request.urlopen(urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")).read()
    parameters.clear_caches()
    # Powertools keeps one provider (and its boto3 client) per process; drop it so the
    # next call builds a client for this endpoint.
    _providers().clear()
    forget_all()  # a tenant's limits or a worker's pause read against the last test's table
    yield moto_endpoint
    parameters.clear_caches()
    _providers().clear()
    forget_all()


def forget_all() -> None:
    from courier import cached

    cached.forget_all()


def _providers() -> dict:
    from aws_lambda_powertools.utilities.parameters import base

    return base.DEFAULT_PROVIDERS
