"""Presigned uploads: the browser PUTs a job's input straight to S3, under its tenant's prefix."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from courier.aws import client
from courier.errors import InvalidInput
from courier.jobs.models import utc_in
from courier.s3_errors import s3_outcomes

MB = 1024 * 1024
#: What may be uploaded, and how large.
ALLOWED_TYPES: dict[str, int] = {
    "video/mp4": 1024 * MB,
    "video/quicktime": 1024 * MB,
    "video/webm": 1024 * MB,
    "image/jpeg": 20 * MB,
    "image/png": 20 * MB,
    "image/webp": 20 * MB,
    "application/json": 10 * MB,
    "text/plain": 10 * MB,
}
EXPIRES_SECONDS = 900


def uploads_prefix(tenant_id: str) -> str:
    return f"uploads/{tenant_id}/"


def require_own_upload(key: str, tenant_id: str, field: str) -> None:
    """A job reads only its tenant's uploads, whatever key its input names."""
    if not key.startswith(uploads_prefix(tenant_id)) or ".." in key:
        raise InvalidInput(f"{field} must be one of your uploads (POST /v1/uploads)", code="forbidden_key", status=403)


@contextmanager
def reading_upload(key: str, *, not_found_code: str) -> Iterator[None]:
    """A missing upload is the caller's mistake (not retried; a 404, since workers may list
    the uploads prefix); the rest as every S3 call's (courier.s3_errors)."""
    with s3_outcomes(key, missing=InvalidInput(f"no upload at {key}", code=not_found_code)):
        yield


def presign_upload(bucket: str, tenant_id: str, *, content_type: str, size_bytes: int, filename: str | None) -> dict[str, Any]:
    limit = ALLOWED_TYPES.get(content_type)
    if limit is None:
        raise InvalidInput(
            f"content type {content_type!r} is not accepted; use one of {', '.join(sorted(ALLOWED_TYPES))}",
            code="unsupported_media_type", status=415,
        )
    if size_bytes <= 0 or size_bytes > limit:
        raise InvalidInput(f"{content_type} uploads are 1 byte to {limit // MB} MB", code="too_large", status=413)
    key = uploads_prefix(tenant_id) + f"{uuid.uuid4().hex}/{_safe_name(filename, content_type)}"
    url = client("s3").generate_presigned_url(
        "put_object",
        # ContentType and ContentLength are signed: S3 refuses any other type or size.
        Params={"Bucket": bucket, "Key": key, "ContentType": content_type, "ContentLength": size_bytes},
        ExpiresIn=EXPIRES_SECONDS,
    )
    return {
        "uploadUrl": url,
        "method": "PUT",
        "headers": {"Content-Type": content_type, "Content-Length": str(size_bytes)},
        "key": key,
        "expiresAt": utc_in(EXPIRES_SECONDS),
    }


def _safe_name(filename: str | None, content_type: str) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", (filename or "").rsplit("/", 1)[-1]).strip("._")[:100]
    return base or "upload." + content_type.split("/")[1]
