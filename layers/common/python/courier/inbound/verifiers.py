"""Each provider's webhook signature, checked on the raw body exactly as it arrived.

A verifier takes the raw bytes, the request's headers (names lower-cased) and the source's
secrets (the current one, and during a rotation's overlap the previous ones), and returns
what the delivery is (its event type and the provider's delivery id, for deduplication),
or refuses it. Comparisons are constant-time (`hmac.compare_digest`); a signed timestamp
outside the tolerance is refused (a replay); nothing is ever re-serialised before it is
checked. Standard Webhooks (Svix, Clerk, Resend...) goes through its own small library,
`standardwebhooks`; the others are the providers' documented HMACs, tested against their
published vectors or official libraries (tests/unit/test_inbound_verifiers.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from courier.errors import CourierError

#: Seconds a signed timestamp may be from now (Stripe's and Standard Webhooks' own default).
TOLERANCE_SECONDS = 300


class Refused(CourierError):
    """The delivery is not the provider's (or no longer fresh): 401, no job."""

    status = 401
    code = "bad_signature"
    retryable = False


@dataclass(frozen=True)
class Verified:
    delivery_id: str
    event_type: str | None = None


@dataclass(frozen=True)
class Check:
    """One delivery to verify: the raw bytes, headers by lower-case name, the secrets, now."""

    raw: bytes
    headers: Mapping[str, str]
    secrets: tuple[str, ...]
    now: float
    #: generic only: the header carrying the signature, and the one carrying the delivery id.
    signature_header: str | None = None
    id_header: str | None = None

    def header(self, name: str) -> str:
        value = self.headers.get(name, "").strip()
        if not value:
            raise Refused(f"the {name} header is missing", code="missing_signature")
        return value

    def body_hash(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()

    def json_field(self, *path: str | int) -> Any:
        """A field of the body when it is JSON (after verification only), else None."""
        try:
            value: Any = json.loads(self.raw)
            for step in path:
                value = value[step]
            return value
        except (ValueError, KeyError, IndexError, TypeError):
            return None


def _hmac(secret: str | bytes, data: bytes) -> bytes:
    return hmac.new(secret.encode() if isinstance(secret, str) else secret, data, hashlib.sha256).digest()


def _matches(check: Check, signed: bytes, presented: list[str], encode: Callable[[bytes], str]) -> None:
    """Any presented signature equal (constant-time) to the HMAC under any of the secrets."""
    for secret in check.secrets:
        expected = encode(_hmac(secret, signed)).encode()
        if any(hmac.compare_digest(expected, candidate.encode()) for candidate in presented):
            return
    raise Refused("the signature does not match the body", code="bad_signature")


def _fresh(check: Check, timestamp: str) -> None:
    try:
        moment = float(timestamp)
    except ValueError:
        raise Refused("the signed timestamp is not a number", code="bad_signature") from None
    if abs(check.now - moment) > TOLERANCE_SECONDS:
        raise Refused(f"the signed timestamp is more than {TOLERANCE_SECONDS} s from now (a replay, or a clock far off)", code="stale_timestamp")


def _sha256_hex(check: Check, header: str) -> None:
    """`sha256=<hex HMAC-SHA256 of the raw body>` (Meta's and GitHub's X-Hub-Signature-256)."""
    value = check.header(header)
    if not value.startswith("sha256="):
        raise Refused(f"{header} is not sha256=<hex>", code="bad_signature")
    _matches(check, check.raw, [value.removeprefix("sha256=").lower()], bytes.hex)


def meta(check: Check) -> Verified:
    """Meta's Graph API (Instagram, Messenger, WhatsApp): the app secret's HMAC of the raw
    body; Meta sends no delivery id, and a redelivery carries the same body, so its hash is one."""
    _sha256_hex(check, "x-hub-signature-256")
    kind, field = check.json_field("object"), check.json_field("entry", 0, "changes", 0, "field")
    return Verified(check.body_hash(), ".".join(str(part) for part in (kind, field) if part) or None)


def github(check: Check) -> Verified:
    _sha256_hex(check, "x-hub-signature-256")
    return Verified(check.headers.get("x-github-delivery") or check.body_hash(), check.headers.get("x-github-event"))


def stripe(check: Check) -> Verified:
    """`Stripe-Signature: t=<unix>,v1=<hex HMAC of "t.body">[,v1=...]` (several v1 during a
    secret's roll); only v1 counts (v0 is Stripe's test scheme)."""
    parts = [item.split("=", 1) for item in check.header("stripe-signature").split(",") if "=" in item]
    stamps = [value.strip() for key, value in parts if key.strip() == "t"]
    signatures = [value.strip() for key, value in parts if key.strip() == "v1"]
    if len(stamps) != 1 or not signatures:
        raise Refused("Stripe-Signature has no t= or no v1=", code="bad_signature")
    _fresh(check, stamps[0])
    _matches(check, stamps[0].encode() + b"." + check.raw, signatures, bytes.hex)
    event_id, event_type = check.json_field("id"), check.json_field("type")
    return Verified(str(event_id) if event_id else check.body_hash(), str(event_type) if event_type else None)


def shopify(check: Check) -> Verified:
    _matches(check, check.raw, [check.header("x-shopify-hmac-sha256")], lambda digest: base64.b64encode(digest).decode())
    delivery = check.headers.get("x-shopify-webhook-id") or check.headers.get("x-shopify-event-id") or check.body_hash()
    return Verified(delivery, check.headers.get("x-shopify-topic"))


def standard(check: Check) -> Verified:
    """Standard Webhooks (Svix, Clerk, Resend...): `webhook-id`, `webhook-timestamp`,
    `webhook-signature` (`v1,<base64>` ...), a `whsec_` secret; by the `standardwebhooks` library."""
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    delivery = check.header("webhook-id")
    _fresh(check, check.header("webhook-timestamp"))
    check.header("webhook-signature")
    for secret in check.secrets:
        try:
            Webhook(secret).verify(check.raw, dict(check.headers), json_parse=False)
        except WebhookVerificationError:
            continue
        event_type = check.json_field("type")
        return Verified(delivery, str(event_type) if event_type else None)
    raise Refused("the signature does not match the body", code="bad_signature")


def generic(check: Check) -> Verified:
    """HMAC-SHA256 of the raw body, in hex (`sha256=` before it allowed), in the header the
    source names; the delivery id from the header it names, else the body's hash."""
    name = (check.signature_header or "x-signature").lower()
    _matches(check, check.raw, [check.header(name).removeprefix("sha256=").lower()], bytes.hex)
    delivery = check.headers.get(check.id_header.lower()) if check.id_header else None
    return Verified(delivery or check.body_hash())


VERIFIERS: dict[str, Callable[[Check], Verified]] = {
    "meta": meta, "stripe": stripe, "github": github, "shopify": shopify, "standard": standard, "generic": generic,
}
#: Each provider's headers that carry a secret or a signature: never kept with the job.
SIGNATURE_HEADERS = frozenset({"x-hub-signature-256", "x-hub-signature", "stripe-signature", "x-shopify-hmac-sha256", "webhook-signature"})
