"""boto3 clients, created once per process on first use (cold starts that need none pay nothing)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=None)
def client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    # Short timeouts and standard retries: an API request has 29 s in all.
    return boto3.client(service, config=Config(connect_timeout=3, read_timeout=10, retries={"mode": "standard", "max_attempts": 3}))
