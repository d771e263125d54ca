"""Signing as QStash signs deliveries (HS256 JWT over the destination URL and body hash).

Only for unit tests of the verifier; integration tests get real signatures from the
local QStash server.
"""

from __future__ import annotations

import base64
import hashlib
import time
import uuid

import jwt

#: Upstash's published dev-server keys: public test values, not secrets.
CURRENT_KEY = "sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r"
NEXT_KEY = "sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs"


def sign(body: bytes, url: str, *, key: str = CURRENT_KEY, issued_at: float | None = None, ttl: int = 300) -> str:
    now = int(issued_at if issued_at is not None else time.time())
    claims = {
        "iss": "Upstash",
        "sub": url,
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
        "jti": f"jwt_{uuid.uuid4().hex}",
        "body": base64.urlsafe_b64encode(hashlib.sha256(body).digest()).decode().rstrip("="),
    }
    return jwt.encode(claims, key, algorithm="HS256")
