"""Signing deliveries exactly as QStash does, so the official Receivers accept them."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time

import jwt

#: Upstash's published dev-server credentials: public values, so that apps and SDK dev
#: modes work against this server unchanged. Override them for anything shared.
DEV_TOKEN = "eyJVc2VySUQiOiJkZWZhdWx0VXNlciIsIlBhc3N3b3JkIjoiZGVmYXVsdFBhc3N3b3JkIn0="
DEV_CURRENT_SIGNING_KEY = "sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r"
DEV_NEXT_SIGNING_KEY = "sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs"
SIGNATURE_TTL_SECONDS = 300


def body_hash(body: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(body).digest()).decode().rstrip("=")


def sign(key: str, *, url: str, body: bytes, now: float | None = None) -> str:
    """HS256 JWT: iss Upstash, sub the destination URL, body the hash of the raw body."""
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


def new_signing_key() -> str:
    return "sig_" + secrets.token_urlsafe(21)[:28]
