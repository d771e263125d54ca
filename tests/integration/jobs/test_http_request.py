"""http.request on loopback: the tenant's allowlist, the network policy, and retries that
honour the app's Retry-After, through the real jobs API and worker."""

from __future__ import annotations

import time

from tests.integration.jobs.conftest import Stack
from tests.support.receiver import Answer


def allow(stack: Stack, *hosts: str, tenant: str = "acme") -> list[str]:
    response = stack.api.put("/v1/allowed-hosts", json={"hosts": list(hosts)}, headers=stack.headers(tenant))
    assert response.status_code == 200, response.text
    return list(response.json()["hosts"])


def test_a_request_reaches_the_app_with_its_body_and_the_answer_is_kept(stack: Stack) -> None:
    assert allow(stack, f"127.0.0.1:{stack.receiver.port}", "*.Example.COM") == ["*.example.com", f"127.0.0.1:{stack.receiver.port}"]
    stack.receiver.script("/sync", Answer(200, {"Content-Type": "application/json"}, b'{"synced": 12}'))
    job = stack.submit({"type": "http.request", "input": {
        "url": stack.receiver.url("/sync"), "method": "PUT", "json": {"since": "2026-12-01"}, "headers": {"Authorization": "Bearer app"},
    }})
    done = stack.wait_status(job["jobId"], "succeeded")
    assert done["result"]["status"] == 200 and done["result"]["json"] == {"synced": 12} and done["result"]["tries"] == 1
    (request,) = stack.receiver.at("/sync")
    assert request.method == "PUT" and request.body == b'{"since": "2026-12-01"}'
    headers = {k.lower(): v for k, v in request.headers.items()}
    assert headers["authorization"] == "Bearer app" and headers["x-courier-job-id"] == job["jobId"]
    assert headers["content-type"] == "application/json"


def test_429_and_503_are_retried_after_the_wait_the_app_asks_for(stack: Stack) -> None:
    allow(stack, "127.0.0.1")
    stack.receiver.script("/busy", Answer(429, {"Retry-After": "1"}, b"slow down"), Answer(503, {}, b"deploying"), Answer(201, {}, b"done"))
    job = stack.submit({"type": "http.request", "input": {"url": stack.receiver.url("/busy"), "body": "x"}})
    done = stack.wait_status(job["jobId"], "succeeded")
    assert done["result"]["status"] == 201 and done["result"]["body"] == "done" and done["result"]["tries"] == 3
    first, second, _ = (r.at for r in stack.receiver.at("/busy"))
    assert second - first >= 0.95  # Retry-After: 1 was waited out


def test_a_refusal_fails_the_job_for_good_with_the_status_and_body(stack: Stack) -> None:
    allow(stack, "127.0.0.1")
    stack.receiver.script("/gone", Answer(404, {}, b"no such route"))
    job = stack.submit({"type": "http.request", "input": {"url": stack.receiver.url("/gone"), "method": "GET"}})
    failed = stack.wait_status(job["jobId"], "failed")
    assert failed["error"]["code"] == "http_status" and failed["error"]["retryable"] is False
    assert "404" in failed["error"]["message"] and "no such route" in failed["error"]["message"]
    assert len(stack.receiver.at("/gone")) == 1


def test_an_app_that_keeps_failing_is_retried_by_the_queue_and_ends_dead(stack: Stack) -> None:
    allow(stack, "127.0.0.1")
    stack.receiver.script("/down", *[Answer(500, {}, b"boom")] * 30)
    job = stack.submit({"type": "http.request", "input": {"url": stack.receiver.url("/down"), "retries": 0}})
    dead = stack.wait_status(job["jobId"], "dead", timeout=60)
    assert "500" in dead["error"]["message"]
    assert dead["attempts"] >= 2 and len(stack.receiver.at("/down")) == dead["attempts"]  # bounded: one try per run


def test_hosts_not_allowed_are_refused_at_enqueue_and_at_run(stack: Stack) -> None:
    body = {"type": "http.request", "input": {"url": stack.receiver.url("/x")}}
    refused = stack.submit(body, expect=403)
    assert refused["error"]["code"] == "host_not_allowed"
    allow(stack, "127.0.0.1", tenant="globex")  # another tenant's list is not yours
    assert stack.submit(body, expect=403)["error"]["code"] == "host_not_allowed"
    allow(stack, "127.0.0.1")
    stack.receiver.script("/x", Answer(200, {}, b"late"), Answer(200, {}, b"late"))
    job = stack.submit({**body, "delaySeconds": 2})
    allow(stack)  # the tenant takes it back before the job runs
    failed = stack.wait_status(job["jobId"], "failed")
    assert failed["error"]["code"] == "host_not_allowed"
    time.sleep(0.2)
    assert stack.receiver.at("/x") == []


BAD_REQUESTS = [
    ({"url": "ftp://127.0.0.1/x"}, "unsupported_scheme"),
    ({"url": "http://169.254.169.254/latest/meta-data/"}, "forbidden_address"),
    ({"url": "http://127.0.0.1/", "headers": {"Host": "evil"}}, "invalid_input"),
    ({"url": "http://127.0.0.1/", "body": "a", "json": {}}, "invalid_input"),
    ({"url": "http://127.0.0.1/", "timeoutSeconds": 0}, "invalid_input"),
]


def test_bad_requests_are_refused_before_anything_is_sent(stack: Stack) -> None:
    allow(stack, "127.0.0.1", "169.254.169.254")
    for data, code in BAD_REQUESTS:
        assert stack.submit({"type": "http.request", "input": data}, expect=422)["error"]["code"] == code, data


def test_allowed_hosts_are_validated(stack: Stack) -> None:
    response = stack.api.put("/v1/allowed-hosts", json={"hosts": ["https://app.example.com/path"]}, headers=stack.headers())
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_host"
    assert stack.api.get("/v1/allowed-hosts", headers=stack.headers()).json() == {"hosts": []}
