"""A source's secrets at rest: sealed by AWS KMS (the stack's key, `COURIER_SOURCES_KEY`),
bound to their tenant and source by the encryption context, so a sealed secret copied to
another source's item does not open. Never returned by the API, never logged.

Locally, local AWS's KMS seals them the same way (devstack makes the key).
"""

from __future__ import annotations

import base64
from typing import Any

from courier.errors import Misconfigured


class Sealer:
    def __init__(self, key_id: str, *, client: Any = None) -> None:
        self.key_id = key_id
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            from courier.aws import client

            self._client = client("kms")
        return self._client

    def seal(self, plaintext: str, context: dict[str, str]) -> str:
        if not self.key_id:
            raise Misconfigured("inbound sources need a KMS key to seal their secrets: set COURIER_SOURCES_KEY")
        sealed = self.client.encrypt(KeyId=self.key_id, Plaintext=plaintext.encode(), EncryptionContext=context)
        return base64.b64encode(sealed["CiphertextBlob"]).decode()

    def open(self, sealed: str, context: dict[str, str]) -> str:
        """With the key named, as AWS advises: a ciphertext of another key is refused."""
        opened = self.client.decrypt(KeyId=self.key_id, CiphertextBlob=base64.b64decode(sealed), EncryptionContext=context)
        return bytes(opened["Plaintext"]).decode()
