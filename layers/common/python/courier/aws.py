"""boto3 clients, created once per process on first use (cold starts that need none pay nothing).

Creation is single-flight: building a client loads botocore's service models (tens of
milliseconds alone, seconds when many threads do it at once), and threads that share a
process (the local runtime, a thread pool in a job) must not each build their own.
"""

from __future__ import annotations

import os
import threading
from typing import Any

_clients: dict[str, Any] = {}
_creating = threading.Lock()


def client(service: str) -> Any:
    found = _clients.get(service)
    if found is None:
        with _creating:
            found = _clients.get(service)
            if found is None:
                found = _clients[service] = _build(service)
    return found


def forget_clients() -> None:
    """Drop every client (tests that change the region or endpoint)."""
    with _creating:
        _clients.clear()


def _build(service: str) -> Any:
    import boto3
    from botocore.config import Config

    # Short timeouts and standard retries: an API request has 29 s in all.
    config = Config(connect_timeout=3, read_timeout=10, retries={"mode": "standard", "max_attempts": 3})
    if service != "s3":
        return boto3.client(service, config=config)
    # Presigned URLs must be SigV4 (buckets made since June 2020 refuse SigV2, and only
    # SigV4 signs Content-Length) on the bucket's regional host: the global one answers
    # a new bucket outside us-east-1 with a 307, which breaks a browser's PUT.
    config = config.merge(Config(signature_version="s3v4", s3={"addressing_style": "virtual"}))
    return boto3.client("s3", config=config, endpoint_url=s3_endpoint(boto3.session.Session().region_name))


def s3_endpoint(region: str | None) -> str | None:
    """The regional S3 endpoint, unless an endpoint is configured (the local stack)."""
    if os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or not region:
        return None
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://s3.{region}.{suffix}"
