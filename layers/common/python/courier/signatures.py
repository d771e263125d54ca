"""QStash signature checks with the official SDK's Receiver.

Function URLs are public (QStash cannot sign SigV4), so this check is the only door:
every delivery must carry a JWT signed with the current or the next signing key, whose
`sub` is exactly the URL we are known by and whose `body` claim hashes the raw body.
"""

from __future__ import annotations

from typing import Callable

from courier.errors import Unauthorized
from courier.secrets import QStashCredentials

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
