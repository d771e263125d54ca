"""Presigned URLs are SigV4 on the bucket's regional host, with the upload's size signed."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from courier import aws
from courier.uploads import presign_upload


@pytest.fixture
def region(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    aws.forget_clients()
    yield
    aws.forget_clients()


@pytest.mark.parametrize(
    "name, host",
    [("us-east-1", "courier-data.s3.us-east-1.amazonaws.com"), ("us-west-2", "courier-data.s3.us-west-2.amazonaws.com"),
     ("eu-west-1", "courier-data.s3.eu-west-1.amazonaws.com"), ("ap-southeast-2", "courier-data.s3.ap-southeast-2.amazonaws.com"),
     ("cn-north-1", "courier-data.s3.cn-north-1.amazonaws.com.cn")],
)
def test_upload_urls_are_sigv4_regional_and_sign_the_size(region: None, monkeypatch: pytest.MonkeyPatch, name: str, host: str) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", name)
    monkeypatch.setenv("AWS_REGION", name)
    upload = presign_upload("courier-data", "acme", content_type="video/mp4", size_bytes=1234, filename="clip.mp4")
    url = urlsplit(upload["uploadUrl"])
    query = parse_qs(url.query)
    assert url.scheme == "https" and url.hostname == host
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"] and f"/{name}/s3/" in query["X-Amz-Credential"][0]
    assert set(query["X-Amz-SignedHeaders"][0].split(";")) >= {"content-length", "content-type", "host"}
    assert upload["headers"] == {"Content-Type": "video/mp4", "Content-Length": "1234"}
