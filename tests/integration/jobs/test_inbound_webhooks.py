"""Inbound webhooks through the real jobs API and worker: a tenant's Instagram (Meta) and
Stripe sources, each delivery verified on its raw bytes, answered at once and made one job
(here an http.request to the tenant's own app, the receiver); Meta's handshake; every
refusal (bad, missing or stale signature, re-serialised body, unknown source, too large,
wrong type) answered 4xx with no job and listed; redeliveries, also concurrent, make no second
job; a rotated secret keeps the old one valid for its overlap; no secret is ever shown."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import stripe

from tests.integration.jobs.conftest import Stack
from tests.integration.jobs.test_http_request import allow

META_SECRET, STRIPE_SECRET = "meta-app-secret-0123", "whsec_stripe_0123456789"


def source(stack: Stack, provider: str, secret: str, path: str, **extra: Any) -> dict[str, Any]:
    allow(stack, f"127.0.0.1:{stack.receiver.port}")
    target = {"type": "http.request", "input": {"url": stack.receiver.url(path), "json": "{{webhook}}"}}
    response = stack.api.post("/v1/sources", json={"name": provider, "provider": provider, "secret": secret, "target": target, **extra},
                              headers=stack.headers())
    assert response.status_code == 201, response.text
    return dict(response.json())


def meta_post(stack: Stack, created: dict[str, Any], body: bytes, *, secret: str = META_SECRET, **headers: str) -> Any:
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return stack.api.post(f"/v1/inbound/{created['sourceId']}", content=body,
                          headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature, **headers})


def deliveries(stack: Stack, created: dict[str, Any]) -> list[dict[str, Any]]:
    response = stack.api.get(f"/v1/sources/{created['sourceId']}/deliveries", headers=stack.headers())
    assert response.status_code == 200, response.text
    return list(response.json()["deliveries"])


def jobs_of(stack: Stack) -> list[dict[str, Any]]:
    return [j for j in stack.api.get("/v1/jobs?type=http.request", headers=stack.headers()).json()["jobs"]]


def test_instagram_end_to_end_with_its_handshake_and_redeliveries(stack: Stack) -> None:
    created = source(stack, "meta", META_SECRET, "/instagram", verifyToken="my-verify-token")
    assert META_SECRET not in json.dumps(created) and "my-verify-token" not in json.dumps(created)
    items = boto3.client("dynamodb").scan(TableName=stack.resources.table_name)["Items"]
    assert META_SECRET not in json.dumps(items) and "my-verify-token" not in json.dumps(items)  # sealed at rest
    path = f"/v1/inbound/{created['sourceId']}"
    challenge = stack.api.get(path, params={"hub.mode": "subscribe", "hub.verify_token": "my-verify-token", "hub.challenge": "1158201444"})
    assert challenge.status_code == 200 and challenge.text == "1158201444"
    wrong = stack.api.get(path, params={"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"})
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "bad_handshake"

    body = b'{"object":"instagram","entry":[{"id":"17841400000","time":1733500000,"changes":[{"field":"comments","value":{"text":"nice"}}]}]}'
    first = meta_post(stack, created, body)
    assert first.status_code == 200 and first.json()["duplicate"] is False, first.text
    again = meta_post(stack, created, body)  # Meta's retry: the same body
    assert again.status_code == 200 and again.json() == {**first.json(), "duplicate": True}
    job = stack.wait_status(first.json()["jobId"], "succeeded")
    (request,) = stack.receiver.wait_count("/instagram", 1)
    sent = json.loads(request.body)
    assert sent["provider"] == "meta" and sent["eventType"] == "instagram.comments" and sent["body"]["entry"][0]["id"] == "17841400000"
    assert "x-hub-signature-256" not in sent["headers"] and sent["source"] == created["sourceId"]
    assert job["input"]["json"]["deliveryId"] == sent["deliveryId"]
    assert [d["verdict"] for d in deliveries(stack, created)] == ["duplicate", "accepted"]
    assert len(jobs_of(stack)) == 1


def test_stripe_refusals_make_no_job_and_are_listed(stack: Stack) -> None:
    created = source(stack, "stripe", STRIPE_SECRET, "/stripe")
    path = f"/v1/inbound/{created['sourceId']}"
    raw = json.dumps({"id": "evt_1Q", "type": "invoice.paid", "data": {"object": {"amount_paid": 2000}}}).encode()

    def post(body: bytes, header: str | None, content_type: str = "application/json") -> Any:
        headers = {"Content-Type": content_type, **({"Stripe-Signature": header} if header else {})}
        return stack.api.post(path, content=body, headers=headers)

    good = stripe.WebhookSignature.generate_signature_header(raw.decode(), STRIPE_SECRET)
    stale = stripe.WebhookSignature.generate_signature_header(raw.decode(), STRIPE_SECRET, timestamp=int(time.time()) - 3600)
    for response, status, code in (
        (post(raw, stripe.WebhookSignature.generate_signature_header(raw.decode(), "whsec_forged")), 401, "bad_signature"),
        (post(raw, None), 401, "missing_signature"),
        (post(raw, stale), 401, "stale_timestamp"),
        (post(json.dumps(json.loads(raw), indent=2).encode(), good), 401, "bad_signature"),  # re-serialised
        (post(raw[:-1], good), 401, "bad_signature"),  # truncated
        (post(raw, good, "application/xml"), 415, "unsupported_media_type"),
        (post(b"x" * (1024 * 1024 + 1), good), 413, "body_too_large"),
        (stack.api.post("/v1/inbound/src_000000000000000000000000", content=raw, headers={"Stripe-Signature": good}), 404, "unknown_source"),
    ):
        assert response.status_code == status and response.json()["error"]["code"] == code, (code, response.text)
    assert jobs_of(stack) == []
    listed = deliveries(stack, created)
    assert [d["verdict"] for d in listed] == ["refused"] * 7 and {d["error"]["code"] for d in listed} >= {"stale_timestamp", "bad_signature"}

    accepted = post(raw, good)
    assert accepted.status_code == 200, accepted.text
    done = stack.wait_status(accepted.json()["jobId"], "succeeded")
    assert done["input"]["json"]["eventType"] == "invoice.paid" and done["input"]["json"]["deliveryId"] == "evt_1Q"


def test_concurrent_redeliveries_make_one_job(stack: Stack) -> None:
    created = source(stack, "meta", META_SECRET, "/burst", verifyToken="t")
    bodies = [json.dumps({"object": "instagram", "entry": [{"id": str(n), "time": n}]}).encode() for n in range(6)]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda body: meta_post(stack, created, body), [b for b in bodies for _ in range(4)]))
    assert {a.status_code for a in answers} == {200}
    by_body: dict[str, set[str]] = {}
    for body, answer in zip([b for b in bodies for _ in range(4)], answers, strict=True):
        by_body.setdefault(body.decode(), set()).add(answer.json()["jobId"])
    assert all(len(ids) == 1 for ids in by_body.values()) and len(jobs_of(stack)) == len(bodies)
    assert sum(1 for a in answers if not a.json()["duplicate"]) == len(bodies)


def test_a_rotated_secret_stays_valid_for_its_overlap_and_secrets_are_never_shown(stack: Stack) -> None:
    created = source(stack, "meta", META_SECRET, "/rotate", verifyToken="t")
    rotated = stack.api.post(f"/v1/sources/{created['sourceId']}/secret", json={"secret": "meta-new-secret", "overlapSeconds": 3600},
                             headers=stack.headers())
    assert rotated.status_code == 200 and len(rotated.json()["secrets"]) == 2 and "meta-new-secret" not in rotated.text
    assert meta_post(stack, created, b'{"object":"instagram","entry":[{"id":"old"}]}').status_code == 200
    assert meta_post(stack, created, b'{"object":"instagram","entry":[{"id":"new"}]}', secret="meta-new-secret").status_code == 200
    cut = stack.api.post(f"/v1/sources/{created['sourceId']}/secret", json={"secret": "meta-newest", "overlapSeconds": 0}, headers=stack.headers())
    assert [s.get("validUntil") for s in cut.json()["secrets"]] == [None]
    assert meta_post(stack, created, b'{"object":"instagram","entry":[{"id":"x"}]}', secret="meta-new-secret").status_code == 401
    listed = stack.api.get("/v1/sources", headers=stack.headers()).json()["sources"]
    assert [s["sourceId"] for s in listed] == [created["sourceId"]] and "secret" not in json.dumps(listed).replace('"secrets"', "")
    assert stack.api.get(f"/v1/sources/{created['sourceId']}", headers=stack.headers("globex")).status_code == 404
    assert stack.api.delete(f"/v1/sources/{created['sourceId']}", headers=stack.headers()).json()["deleted"] is True
    gone = meta_post(stack, created, b'{"object":"instagram"}', secret="meta-newest")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "unknown_source"


def test_a_source_is_checked_when_it_is_made(stack: Stack) -> None:
    def make(body: dict[str, Any]) -> Any:
        return stack.api.post("/v1/sources", json=body, headers=stack.headers())

    target = {"type": "http.request", "input": {"url": "https://not-allowed.example.com/hook", "json": "{{webhook}}"}}
    assert make({"name": "x", "provider": "stripe", "secret": "s", "target": target}).status_code == 403  # not an allowed host
    assert make({"name": "x", "provider": "meta", "secret": "s", "target": target}).status_code == 422  # meta needs verifyToken
    assert make({"name": "x", "provider": "stripe", "secret": "s", "target": {"type": "no.such"}}).status_code == 400
    assert make({"name": "x", "provider": "paypal", "secret": "s", "target": target}).status_code == 422
