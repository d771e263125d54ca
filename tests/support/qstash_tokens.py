"""QStash signatures for unit tests of the verifier, made by the local server's signer.

The verifier under test follows the official Receiver, so this also checks the signer.
"""

from __future__ import annotations

from devstack.qstash.signing import DEV_CURRENT_SIGNING_KEY as CURRENT_KEY
from devstack.qstash.signing import DEV_NEXT_SIGNING_KEY as NEXT_KEY
from devstack.qstash.signing import sign as _sign

__all__ = ["CURRENT_KEY", "NEXT_KEY", "sign"]


def sign(body: bytes, url: str, *, key: str = CURRENT_KEY, issued_at: float | None = None) -> str:
    return _sign(key, url=url, body=body, now=issued_at)
