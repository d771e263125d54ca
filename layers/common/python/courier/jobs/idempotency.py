"""Idempotency keys: a caller's, and the ones Courier makes for a child or a firing.

Courier's own keys start with INTERNAL_KEY_PREFIX and a caller's may not, so no request can
take a child's or a firing's key beforehand and be adopted as that job.
"""

from __future__ import annotations

from courier.errors import InvalidInput

INTERNAL_KEY_PREFIX = "courier:"


def internal_key(*parts: str) -> str:
    return INTERNAL_KEY_PREFIX + ":".join(parts)


def check_callers_key(key: str | None) -> None:
    if key is not None and key.startswith(INTERNAL_KEY_PREFIX):
        raise InvalidInput(f"idempotency keys starting {INTERNAL_KEY_PREFIX!r} are Courier's own; choose another",
                           code="reserved_idempotency_key")
