"""boto3 clients, created once per process on first use (cold starts that need none pay nothing)."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=None)
def client(service: str) -> Any:
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
