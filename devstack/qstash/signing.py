"""Signing deliveries exactly as QStash does, so the official Receivers accept them."""

from __future__ import annotations

import secrets

# One implementation of QStash's signature for the server and for Courier's own callbacks.
from courier.signatures import sign as sign

#: Upstash's published dev-server credentials: public values, so that apps and SDK dev
#: modes work against this server unchanged. Override them for anything shared.
DEV_TOKEN = "eyJVc2VySUQiOiJkZWZhdWx0VXNlciIsIlBhc3N3b3JkIjoiZGVmYXVsdFBhc3N3b3JkIn0="
DEV_CURRENT_SIGNING_KEY = "sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r"
DEV_NEXT_SIGNING_KEY = "sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs"


def new_signing_key() -> str:
    return "sig_" + secrets.token_urlsafe(21)[:28]
