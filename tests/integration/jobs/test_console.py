"""`/console` as the jobs API serves it: a strict CSP, cache headers by content hash, and no
file but its own."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import boto3

from tests.integration.jobs.conftest import Stack


def test_the_page_its_policy_and_its_cache_headers(stack: Stack) -> None:
    page = stack.api.get("/console")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = dict(part.strip().split(" ", 1) for part in page.headers["content-security-policy"].split(";"))
    assert policy["default-src"] == "'none'" and policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["connect-src"] == "'self'" and policy["frame-ancestors"] == "'none'"
    bucket_url = boto3.client("s3").generate_presigned_url("get_object", Params={"Bucket": stack.resources.bucket_name, "Key": "k"})
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(bucket_url))
    assert policy["img-src"].split() == ["'self'", "data:", origin]  # presigned keyframes, and nothing else
    assert page.headers["cache-control"] == "no-cache" and page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer" and page.headers["x-frame-options"] == "DENY"
    assert "<script>" not in page.text and "style=" not in page.text  # nothing inline for the policy to allow
    assets = re.findall(r'"/console/([a-z.]+)\?v=([0-9a-f]{16})"', page.text)
    assert {name for name, _ in assets} == {"console.js", "console.css"}
    for name, version in assets:
        pinned = stack.api.get(f"/console/{name}", params={"v": version})
        assert pinned.status_code == 200 and pinned.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert "content-security-policy" in pinned.headers
        stale = stack.api.get(f"/console/{name}", params={"v": "0" * 16})
        assert stale.headers["cache-control"] == "no-cache" and stale.content == pinned.content
    assert stack.api.get("/console/console.js").headers["content-type"].startswith("text/javascript")


def test_no_other_file_is_served(stack: Stack) -> None:
    for path in ("/console/index.html.bak", "/console/..%2Fhandler.py", "/console/%2e%2e%2fhandler.py", "/console/handler.py"):
        response = stack.api.get(path)
        assert response.status_code == 404, path
        assert set(response.json()["error"]) == {"code", "message"}
    # The console is not part of the API's contract.
    assert not [p for p in stack.api.get("/openapi.json").json()["paths"] if p.startswith("/console")]
