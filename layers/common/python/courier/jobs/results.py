"""Where a job's result goes: inline in the job item, or to S3 when it is large.

DynamoDB items stop at 400 KB; results (a video's metrics, a long model answer) can be
bigger, so anything over RESULT_INLINE_LIMIT is written to results/{tenant}/{jobId}/.
"""

from __future__ import annotations

import json
from typing import Any

from courier.aws import client

RESULT_INLINE_LIMIT = 64 * 1024


def results_prefix(tenant_id: str, job_id: str) -> str:
    return f"results/{tenant_id}/{job_id}/"


def store_result(bucket: str | None, tenant_id: str, job_id: str, result: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(inline result, None) or (None, {"bucket", "key", "size"})."""
    body = json.dumps(result, separators=(",", ":")).encode()
    if len(body) <= RESULT_INLINE_LIMIT or not bucket:
        return result, None
    key = results_prefix(tenant_id, job_id) + "result.json"
    client("s3").put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
    return None, {"bucket": bucket, "key": key, "size": len(body)}


def result_download_url(ref: dict[str, Any], expires_in: int = 900) -> str:
    return client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": ref["bucket"], "Key": ref["key"]}, ExpiresIn=expires_in
    )
