"""A job's input and result where they fit: inline in the job item, else in S3.

DynamoDB items stop at 400 KB, and the store keeps structured fields as JSON text, which
escapes non-ASCII (one CJK character is six bytes), so the limits count that text, not
characters. Anything over INLINE_LIMIT goes to S3 under inputs/ or results/, keyed by
tenant and job, so the item stays small enough that every later write (attempts, errors,
the last response, the callback's report) always fits, and a job never gets stuck
because its own record can no longer be updated.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

from courier import strict_json
from courier.aws import client
from courier.errors import CourierError, InvalidInput, Misconfigured
from courier.s3_errors import s3_outcomes

INLINE_LIMIT = 64 * 1024
#: The largest input a job may have, stored: beyond it, upload the data (POST /v1/uploads).
MAX_INPUT_BYTES = 1024 * 1024
INPUTS_PREFIX = "inputs/"
RESULTS_PREFIX = "results/"


def stored_text(value: Any) -> str:
    """Exactly the text the job store writes for a structured field."""
    return strict_json.dumps(value)


def fingerprint(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def results_prefix(tenant_id: str, job_id: str) -> str:
    return f"{RESULTS_PREFIX}{tenant_id}/{job_id}/"


def place_input(bucket: str | None, tenant_id: str, job_id: str, data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(inline input, None), or ({}, a reference to it in S3) when it is large."""
    size = len(stored_text(data).encode())
    if size > MAX_INPUT_BYTES:
        raise InvalidInput(
            f"the input is {size} bytes stored; at most {MAX_INPUT_BYTES} (upload large data with POST /v1/uploads)",
            code="input_too_large", status=413,
        )
    if size <= INLINE_LIMIT:
        return data, None
    if not bucket:
        raise Misconfigured("no bucket configured for large job inputs")
    key = f"{INPUTS_PREFIX}{tenant_id}/{job_id}/input.json"
    body = strict_json.dumps(data, separators=(",", ":")).encode()
    client("s3").put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
    return {}, {"bucket": bucket, "key": key, "size": len(body), "sha256": fingerprint(data)}


def load_input(inline: dict[str, Any], ref: dict[str, Any] | None) -> dict[str, Any]:
    return inline if ref is None else _load_object(ref, "input")


def load_result(ref: dict[str, Any]) -> dict[str, Any]:
    """A result stored in S3 (a fan-out parent reads its children's)."""
    return _load_object(ref, "result")


def _load_object(ref: dict[str, Any], what: str) -> dict[str, Any]:
    gone = CourierError(f"the job's stored {what} is gone", code=f"{what}_missing", retryable=False)
    with s3_outcomes(f"the job's stored {what}", missing=gone):
        body = client("s3").get_object(Bucket=ref["bucket"], Key=ref["key"])["Body"].read()
    data = json.loads(body)
    if not isinstance(data, dict):
        raise CourierError(f"the job's stored {what} is not an object", code=f"{what}_missing", retryable=False)
    return data


def store_result(bucket: str | None, tenant_id: str, job_id: str, result: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(inline result, None) or (None, {"bucket", "key", "size"})."""
    if len(stored_text(result).encode()) <= INLINE_LIMIT:
        return result, None
    if not bucket:
        raise CourierError("the result is too large to store inline and no bucket is configured", code="result_too_large", retryable=False)
    body = strict_json.dumps(result, separators=(",", ":")).encode()
    key = results_prefix(tenant_id, job_id) + "result.json"
    client("s3").put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
    return None, {"bucket": bucket, "key": key, "size": len(body)}


def result_download_url(ref: dict[str, Any], expires_in: int = 900) -> str:
    return str(client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": ref["bucket"], "Key": ref["key"]}, ExpiresIn=expires_in
    ))


def stored_files(result: Any, tenant_id: str, job_id: str) -> list[str]:
    """The S3 keys a result names inside its own job's results folder, in the order named:
    what the job stored (keyframes), and nothing a crafted result could point elsewhere."""
    prefix = results_prefix(tenant_id, job_id)

    def strings(value: Any) -> Iterator[str]:
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list):
            for item in value:
                yield from strings(item)
        elif isinstance(value, str):
            yield value

    return list(dict.fromkeys(s for s in strings(result) if s.startswith(prefix) and ".." not in s))
