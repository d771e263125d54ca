"""S3's answers as job outcomes, decided once for every reader and writer of the bucket:
a missing object is whatever the caller says it is (the caller's mistake, or a stored
input gone), access denied is a deployment's fault (not retried: an operator must fix the
role), anything else is S3's passing trouble (retried)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from courier.errors import CourierError

MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
DENIED_CODES = frozenset({"403", "AccessDenied"})


@contextmanager
def s3_outcomes(what: str, *, missing: CourierError | None = None) -> Iterator[None]:
    """Around S3 calls on `what` (a key, "the job's stored input"): their errors as CourierErrors."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in MISSING_CODES and missing is not None:
            raise missing from None
        if code in DENIED_CODES:
            raise CourierError(f"cannot read {what}: access denied", code="s3_access_denied", retryable=False) from None
        raise CourierError(f"S3 failed ({code or type(error).__name__}); will retry", code="s3_unavailable", status=503) from None
    except BotoCoreError as error:  # endpoint unreachable, timeouts
        raise CourierError(f"S3 unreachable: {type(error).__name__}; will retry", code="s3_unavailable", status=503) from None
