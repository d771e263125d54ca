"""Each provider's webhook signature, checked against the provider's published test vector
or official library, or (where a provider publishes neither) an independent implementation,
openssl's, as the providers' docs show it; and every forged, replayed, truncated or
re-serialised body refused."""

from __future__ import annotations

import base64
import json
import subprocess
import time
from collections.abc import Callable

import pytest
import stripe
from standardwebhooks.webhooks import Webhook

from courier.inbound.verifiers import TOLERANCE_SECONDS, VERIFIERS, Check, Refused, Verified


def check(provider: str, raw: bytes, headers: dict[str, str], *secrets: str, now: float | None = None, **options: str) -> Verified:
    return VERIFIERS[provider](Check(raw, {k.lower(): v for k, v in headers.items()}, tuple(secrets), now or time.time(), **options))


def refused(code: str, call: Callable[[], Verified]) -> None:
    with pytest.raises(Refused) as caught:
        call()
    assert caught.value.code == code and caught.value.status == 401


def openssl_hmac(secret: str, raw: bytes, *, base64_out: bool = False) -> str:
    """`openssl dgst -sha256 -hmac SECRET`, as Meta's and Shopify's docs check a signature."""
    digest = subprocess.run(["openssl", "dgst", "-sha256", "-hmac", secret, "-binary"], input=raw, capture_output=True, check=True).stdout
    return base64.b64encode(digest).decode() if base64_out else digest.hex()


# A body as a provider sends it, and what a framework would make of it (re-serialised).
BODY = b'{"object":"instagram","entry":[{"id":"17841400000","time":1733500000,"changes":[{"field":"comments","value":{"text":"hi \\u00e9"}}]}]}'
RESERIALISED = json.dumps(json.loads(BODY)).encode()


def tampered(raw: bytes) -> list[bytes]:
    """Forged (one byte changed), truncated, extended, and re-serialised."""
    return [raw[:-2] + b"!" + raw[-1:], raw[:-1], raw + b" ", json.dumps(json.loads(raw), indent=1).encode()]


def test_github_published_vector() -> None:
    """GitHub's docs: secret "It's a Secret to Everybody", payload "Hello, World!"."""
    secret, raw = "It's a Secret to Everybody", b"Hello, World!"
    signature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    headers = {"X-Hub-Signature-256": signature, "X-GitHub-Event": "push", "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958"}
    assert check("github", raw, headers, secret) == Verified("72d3162e-cc78-11e3-81ab-4c9367dc0958", "push")
    refused("bad_signature", lambda: check("github", b"Hello, World?", headers, secret))
    refused("bad_signature", lambda: check("github", raw, headers, "another secret"))
    refused("missing_signature", lambda: check("github", raw, {"X-GitHub-Event": "push"}, secret))
    refused("bad_signature", lambda: check("github", raw, {**headers, "X-Hub-Signature-256": signature.removeprefix("sha256=")}, secret))


def test_meta_against_openssl_and_tampering() -> None:
    secret = "app-secret-0123456789abcdef"
    headers = {"X-Hub-Signature-256": "sha256=" + openssl_hmac(secret, BODY)}
    verified = check("meta", BODY, headers, secret)
    assert verified.event_type == "instagram.comments" and len(verified.delivery_id) == 64
    assert check("meta", BODY, headers, secret).delivery_id == verified.delivery_id  # a redelivery: the same id
    for body in tampered(BODY) + [RESERIALISED]:
        refused("bad_signature", lambda body=body: check("meta", body, headers, secret))
    assert check("meta", BODY, {"x-hub-signature-256": headers["X-Hub-Signature-256"].upper().replace("SHA256=", "sha256=")}, secret)


def test_stripe_agrees_with_stripes_own_library() -> None:
    now = time.time()
    secret, raw = "whsec_test_" + "a" * 32, json.dumps({"id": "evt_1", "type": "payment_intent.succeeded", "data": {}}).encode()
    header = stripe.WebhookSignature.generate_signature_header(raw.decode(), secret, timestamp=int(now))
    assert stripe.WebhookSignature.verify_header(raw, header, secret, tolerance=TOLERANCE_SECONDS)
    assert check("stripe", raw, {"Stripe-Signature": header}, secret) == Verified("evt_1", "payment_intent.succeeded")
    for body in tampered(raw):
        with pytest.raises(stripe.SignatureVerificationError):
            stripe.WebhookSignature.verify_header(body, header, secret, tolerance=TOLERANCE_SECONDS)
        refused("bad_signature", lambda body=body: check("stripe", body, {"Stripe-Signature": header}, secret))
    old = stripe.WebhookSignature.generate_signature_header(raw.decode(), secret, timestamp=int(now) - TOLERANCE_SECONDS - 5)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(raw, old, secret, tolerance=TOLERANCE_SECONDS)
    refused("stale_timestamp", lambda: check("stripe", raw, {"Stripe-Signature": old}, secret))
    # During a roll Stripe signs with both secrets: either verifies.
    rolled = header + ",v1=" + stripe.WebhookSignature._compute_signature(f"{int(now)}.{raw.decode()}", "whsec_new")
    assert check("stripe", raw, {"Stripe-Signature": rolled}, "whsec_new").delivery_id == "evt_1"
    refused("bad_signature", lambda: check("stripe", raw, {"Stripe-Signature": header.replace("v1=", "v0=")}, secret))
    refused("missing_signature", lambda: check("stripe", raw, {}, secret))


def test_shopify_against_openssl() -> None:
    secret, raw = "shpss_0123456789", json.dumps({"id": 820982911946154508, "email": "jon@example.com"}).encode()
    headers = {"X-Shopify-Hmac-Sha256": openssl_hmac(secret, raw, base64_out=True), "X-Shopify-Topic": "orders/create",
               "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"}
    assert check("shopify", raw, headers, secret) == Verified("b54557e4-bdd9-4b37-8a5f-bf7d70bcd043", "orders/create")
    for body in tampered(raw):
        refused("bad_signature", lambda body=body: check("shopify", body, headers, secret))


def test_standard_webhooks_spec_example_and_library() -> None:
    """The spec's example (Svix's docs): its signature is what the library computes."""
    now = time.time()
    example = Webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    from datetime import UTC, datetime

    signed = example.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", datetime.fromtimestamp(1614265330, UTC), b'{"test": 2432232314}')
    assert signed == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    secret, raw = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode(), b'{"type":"user.created","data":{}}'
    stamp = int(now)
    headers = {"webhook-id": "msg_2", "webhook-timestamp": str(stamp),
               "webhook-signature": "v1,bogus " + Webhook(secret).sign("msg_2", datetime.fromtimestamp(stamp, UTC), raw)}
    assert check("standard", raw, headers, "whsec_old", secret) == Verified("msg_2", "user.created")  # the second secret: a rotation
    for body in tampered(raw):
        refused("bad_signature", lambda body=body: check("standard", body, headers, secret))
    refused("stale_timestamp", lambda: check("standard", raw, headers, secret, now=now + TOLERANCE_SECONDS + 10))
    refused("missing_signature", lambda: check("standard", raw, {"webhook-id": "msg_2"}, secret))


def test_generic_hmac_in_the_header_the_source_names() -> None:
    secret, raw = "shared", b'{"event":"thing.happened"}'
    signature = openssl_hmac(secret, raw)
    assert check("generic", raw, {"X-Acme-Signature": "sha256=" + signature, "X-Acme-Id": "42"}, secret,
                 signature_header="X-Acme-Signature", id_header="X-Acme-Id") == Verified("42")
    assert check("generic", raw, {"x-signature": signature}, secret).delivery_id == check("generic", raw, {"x-signature": signature}, secret).delivery_id
    refused("missing_signature", lambda: check("generic", raw, {"x-signature": signature}, secret, signature_header="X-Acme-Signature"))
    for body in tampered(raw):
        refused("bad_signature", lambda body=body: check("generic", body, {"x-signature": signature}, secret))
