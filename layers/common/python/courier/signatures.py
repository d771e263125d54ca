"""QStash signature checks, as QStash's Receiver specifies them, with its gaps closed.

Function URLs are public (QStash cannot sign SigV4), so this check is the only door:
every delivery must carry a JWT (HS256, issuer Upstash) signed with the current or the
next signing key, whose `sub` is exactly the URL we are known by and whose `body` claim
hashes the raw body. The official SDK's Receiver (qstash 3.4) is not used for the check:
it answers a token without a `body` claim with a KeyError (a 500, not a 401), and it
hands its clock tolerance to PyJWT as an option PyJWT ignores, so skew of a second
rejects a good delivery. PyJWT is called here directly, as the Receiver itself does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from typing import Any

import jwt

from courier.errors import Unauthorized
from courier.secrets import QStashCredentials

#: How long a signature we make stays valid (QStash's own value).
SIGNATURE_TTL_SECONDS = 300
#: Seconds of clock skew tolerated on `nbf`/`exp` between QStash and Lambda.
CLOCK_TOLERANCE_SECONDS = 5
_REQUIRED_CLAIMS = ["iss", "sub", "exp", "nbf", "body"]


class InvalidSignature(Unauthorized):
    code = "invalid_signature"


class SignatureVerifier:
    def __init__(self, credentials: Callable[[], QStashCredentials]) -> None:
        self._credentials = credentials

    def verify(self, *, signature: str | None, body: bytes, url: str) -> dict[str, Any]:
        """The signature's claims, or InvalidSignature unless it vouches for `body` sent to `url`."""
        if not signature:
            raise InvalidSignature("missing Upstash-Signature header")
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidSignature("body is not UTF-8; it cannot match a QStash signature") from None
        keys = self._credentials()
        try:
            claims = _decode(signature, keys.current_signing_key)
        except jwt.InvalidSignatureError:  # perhaps signed with the next key, after a rotation
            try:
                claims = _decode(signature, keys.next_signing_key)
            except jwt.InvalidSignatureError:
                raise InvalidSignature("signature rejected: not made with the current or the next signing key") from None
        if claims["sub"] != url:
            raise InvalidSignature("signature rejected: it was made for another URL")
        if not hmac.compare_digest(str(claims["body"]).rstrip("="), body_hash(body)):
            raise InvalidSignature("signature rejected: the body does not match its hash")
        return claims


def _decode(token: str, key: str) -> dict[str, Any]:
    try:
        return jwt.decode(
            token, key, algorithms=["HS256"], issuer="Upstash", leeway=CLOCK_TOLERANCE_SECONDS,
            options={"require": _REQUIRED_CLAIMS},
        )
    except jwt.InvalidSignatureError:
        raise
    except jwt.ExpiredSignatureError:
        raise InvalidSignature("signature rejected: it has expired") from None
    except jwt.ImmatureSignatureError:
        raise InvalidSignature("signature rejected: it is not valid yet") from None
    except jwt.PyJWTError as error:
        raise InvalidSignature(f"signature rejected: {error}") from None


def body_hash(body: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(body).digest()).decode().rstrip("=")


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
        "body": body_hash(body),
    }
    return jwt.encode(claims, key, algorithm="HS256", headers={"typ": "JWT"})
