"""QStash signature checks with the official SDK's Receiver.

Function URLs are public (QStash cannot sign SigV4), so this check is the only door:
every delivery must carry a JWT signed with the current or the next signing key, whose
`sub` is exactly the URL we are known by and whose `body` claim hashes the raw body.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from typing import Callable

import jwt

from courier.errors import Unauthorized
from courier.secrets import QStashCredentials

#: How long a signature we make stays valid (QStash's own value).
SIGNATURE_TTL_SECONDS = 300
#: Seconds of clock skew tolerated on `nbf`/`exp` between QStash and Lambda.
CLOCK_TOLERANCE_SECONDS = 5


class InvalidSignature(Unauthorized):
    code = "invalid_signature"


class SignatureVerifier:
    def __init__(self, credentials: Callable[[], QStashCredentials]) -> None:
        self._credentials = credentials

    def verify(self, *, signature: str | None, body: bytes, url: str) -> None:
        """Raise InvalidSignature unless `signature` vouches for `body` sent to `url`."""
        from qstash import Receiver  # deferred: the API path never needs it
        from qstash.errors import SignatureError

        if not signature:
            raise InvalidSignature("missing Upstash-Signature header")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidSignature("body is not UTF-8; it cannot match a QStash signature") from None
        keys = self._credentials()
        try:
            Receiver(keys.current_signing_key, keys.next_signing_key).verify(
                signature=signature, body=text, url=url, clock_tolerance=CLOCK_TOLERANCE_SECONDS
            )
        except SignatureError as error:
            raise InvalidSignature(f"signature rejected: {error}") from None


def sign(key: str, *, url: str, body: bytes, now: float | None = None) -> str:
    """Sign as QStash does (HS256; `sub` the URL, `body` the SHA-256 of the raw body).

    For callbacks we must POST ourselves when QStash cannot take them: the app checks
    them with the signing keys and the Receiver it already uses for QStash.
    """
    issued = int(now if now is not None else time.time())
    claims = {
        "iss": "Upstash",
        "sub": url,
        "iat": issued,
        "nbf": issued,
        "exp": issued + SIGNATURE_TTL_SECONDS,
        "jti": "jwt_" + secrets.token_hex(12),
        "body": base64.urlsafe_b64encode(hashlib.sha256(body).digest()).decode().rstrip("="),
    }
    return jwt.encode(claims, key, algorithm="HS256", headers={"typ": "JWT"})
