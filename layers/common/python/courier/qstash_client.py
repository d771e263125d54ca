"""The official QStash SDK client, configured for Lambda: short timeouts, one quick retry."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from courier.errors import Misconfigured
from courier.secrets import qstash_credentials
from courier.settings import QStashSettings

#: Seconds one call to QStash may take; past it the job goes to SQS instead.
TIMEOUT_SECONDS = 5.0
CONNECT_TIMEOUT_SECONDS = 2.0


def qstash_client() -> Any:
    """A client for the token currently in the secret (rotations are picked up)."""
    env = QStashSettings.from_env()
    credentials = qstash_credentials(env)
    if not credentials.token:
        raise Misconfigured("no QStash token configured")
    return _client(credentials.token, env.qstash_url)


@lru_cache(maxsize=4)
def _client(token: str, base_url: str | None) -> Any:
    import httpx
    from qstash import QStash

    client = QStash(token, base_url=base_url, retry={"retries": 1, "backoff": lambda attempt: 200})
    # qstash 3.4 builds its httpx client with a 600 s timeout and takes no other; an API
    # request has 29 s, so QStash gets a few and SQS the rest. (SDK pinned in requirements.txt.)
    client.http._client = httpx.Client(timeout=httpx.Timeout(TIMEOUT_SECONDS, connect=CONNECT_TIMEOUT_SECONDS))
    return client
