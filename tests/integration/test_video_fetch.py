"""SSRF guards of URL fetching, and fetching uploads from S3 (moto) under the tenant prefix."""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest

from courier.errors import CourierError, InvalidInput
from courier.network import NetworkPolicy
from courier.video.fetch import fetch_s3, fetch_url


def refused(url: str, resolver=None, **kwargs) -> InvalidInput:
    policy = NetworkPolicy(resolver=resolver or (lambda h, p: ["93.184.216.34"]))
    with pytest.raises(InvalidInput) as caught:
        fetch_url(url, Path("/nonexistent/never-written"), policy=policy, **kwargs)
    return caught.value


def test_non_https_and_private_targets_are_refused() -> None:
    assert refused("http://example.com/v.mp4").code == "unsupported_scheme"
    assert refused("file:///etc/passwd").code == "unsupported_scheme"
    assert refused("https://169.254.169.254/latest/meta-data/").code == "forbidden_address"
    assert refused("https://[::1]/v.mp4").code == "forbidden_address"
    assert refused("https://[::127.0.0.1]/v.mp4").code == "forbidden_address"
    assert refused("https://[64:ff9b::a9fe:a9fe]/v.mp4").code == "forbidden_address"
    # A public name that resolves (also) to a private address: every answer must be public.
    assert refused("https://sneaky.example/v.mp4", resolver=lambda h, p: ["93.184.216.34", "10.0.0.5"]).code == "forbidden_address"


class _Origin:
    """A loopback HTTP origin; the tests let the fetcher reach it through an injected policy."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
        routes = self.routes

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                status, headers, body = routes.get(self.path, (404, {}, b""))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def origin() -> Iterator[_Origin]:
    server = _Origin()
    yield server
    server.server.shutdown()


def loopback_only(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return str(address) == "127.0.0.1"  # stands in for "public" here; 127.0.0.2 stands for private


def test_download_redirects_are_checked_again_and_size_is_capped(origin: _Origin, tmp_path: Path) -> None:
    resolver = {"videos.example": ["127.0.0.1"], "internal.example": ["127.0.0.2"]}
    base = f"http://videos.example:{origin.port}"
    origin.routes.update({
        "/ok.mp4": (200, {}, b"video-bytes"),
        "/hop": (302, {"Location": "/ok.mp4"}, b""),
        "/escape": (302, {"Location": f"http://internal.example:{origin.port}/ok.mp4"}, b""),
        "/big.mp4": (200, {}, b"x" * 5000),
    })
    options = dict(policy=NetworkPolicy(("http",), loopback_only, lambda h, p: resolver[h]))
    target = tmp_path / "video"
    assert fetch_url(f"{base}/ok.mp4", target, **options).read_bytes() == b"video-bytes"
    assert fetch_url(f"{base}/hop", target, **options).read_bytes() == b"video-bytes"
    with pytest.raises(InvalidInput) as escape:
        fetch_url(f"{base}/escape", target, **options)
    assert escape.value.code == "forbidden_address"
    with pytest.raises(InvalidInput) as big:
        fetch_url(f"{base}/big.mp4", target, max_bytes=1000, **options)
    assert big.value.code == "video_too_large"
    with pytest.raises(InvalidInput) as missing:
        fetch_url(f"{base}/nothing", target, **options)
    assert missing.value.code == "fetch_refused" and missing.value.retryable is False


def test_fetch_s3_enforces_the_tenant_prefix(aws: str, tmp_path: Path) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="media")
    s3.put_object(Bucket="media", Key="uploads/acme/1/v.mp4", Body=b"bytes")
    assert fetch_s3("media", "uploads/acme/1/v.mp4", "acme", tmp_path / "v").read_bytes() == b"bytes"
    for key in ("uploads/globex/1/v.mp4", "uploads/acme/../globex/v.mp4", "results/acme/x.json"):
        with pytest.raises(InvalidInput) as caught:
            fetch_s3("media", key, "acme", tmp_path / "v")
        assert caught.value.code == "forbidden_key"
    with pytest.raises(InvalidInput) as missing:
        fetch_s3("media", "uploads/acme/none.mp4", "acme", tmp_path / "v")
    assert missing.value.code == "video_not_found"
    with pytest.raises(CourierError) as large:
        fetch_s3("media", "uploads/acme/1/v.mp4", "acme", tmp_path / "v", max_bytes=2)
    assert large.value.code == "video_too_large" and not large.value.retryable
