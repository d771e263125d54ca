"""`text.hash` over an upload: the presigned PUT, the worker's read of the tenant's own
prefix, and S3's answers as outcomes (what `courier doctor` relies on)."""

from __future__ import annotations

import hashlib

import httpx

from tests.integration.jobs.conftest import Stack


def upload(stack: Stack, data: bytes, tenant: str = "acme") -> str:
    response = stack.api.post("/v1/uploads", json={"contentType": "text/plain", "sizeBytes": len(data)}, headers=stack.headers(tenant))
    assert response.status_code == 200, response.text
    grant = response.json()
    assert httpx.put(grant["uploadUrl"], content=data, headers=grant["headers"]).status_code == 200
    return str(grant["key"])


def test_a_job_hashes_the_callers_upload(stack: Stack) -> None:
    data = b"uploaded bytes\n" * 1000
    key = upload(stack, data)
    job = stack.wait_status(stack.submit({"type": "text.hash", "input": {"uploadKey": key}})["jobId"], "succeeded")
    assert job["result"] == {"algorithm": "sha256", "digest": hashlib.sha256(data).hexdigest(), "bytes": len(data), "uploadKey": key}


def test_another_tenants_upload_is_refused_at_enqueue(stack: Stack) -> None:
    key = upload(stack, b"globex's", tenant="globex")
    refused = stack.submit({"type": "text.hash", "input": {"uploadKey": key}}, expect=403)
    assert refused["error"]["code"] == "forbidden_key"
    both = stack.submit({"type": "text.hash", "input": {"uploadKey": key, "text": "x"}}, expect=422)
    assert "exactly one" in both["error"]["message"]


def test_a_missing_upload_fails_for_good_with_its_own_code(stack: Stack) -> None:
    accepted = stack.submit({"type": "text.hash", "input": {"uploadKey": "uploads/acme/never/uploaded.txt"}})
    job = stack.wait_status(accepted["jobId"], "failed")
    assert job["error"]["code"] == "upload_not_found" and job["error"]["retryable"] is False and job["attempts"] == 1
