"""The jobs console's static files, served by the jobs API at `/console`.

Plain files, no build step: the page signs in with an API key kept in the tab's
sessionStorage and calls the same API an app does. Served with a strict
Content-Security-Policy (scripts, styles and calls from this origin only; images also from
the bucket's origin, for presigned keyframe URLs) and cache headers that let a browser keep
an asset for a year only under the exact content hash the page asks for.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response

from courier.errors import NotFound

PREFIX = "/console"
#: The files the console is made of, and nothing else: no path from a request reaches the disk.
ASSETS = {"console.js": "text/javascript; charset=utf-8", "console.css": "text/css; charset=utf-8"}
INDEX = "index.html"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


@dataclass(frozen=True)
class Console:
    directory: Path
    #: The origin presigned GETs point at (the bucket's), read on the first page served.
    image_origin: Callable[[], str | None]

    @cached_property
    def versions(self) -> dict[str, str]:
        return {name: hashlib.sha256((self.directory / name).read_bytes()).hexdigest()[:16] for name in ASSETS}

    @cached_property
    def page(self) -> bytes:
        html = (self.directory / INDEX).read_text()
        for name, version in self.versions.items():
            html = html.replace(f"{PREFIX}/{name}", f"{PREFIX}/{name}?v={version}")
        return html.encode()

    def policy(self) -> str:
        images = " ".join(filter(None, ("'self'", "data:", self.image_origin())))
        return "; ".join((
            "default-src 'none'", "script-src 'self'", "style-src 'self'", f"img-src {images}", "connect-src 'self'",
            "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
        ))

    def headers(self, cache: str) -> dict[str, str]:
        return {
            "Content-Security-Policy": self.policy(), "Cache-Control": cache, "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
        }

    def index(self) -> Response:
        return Response(self.page, media_type="text/html; charset=utf-8", headers=self.headers(REVALIDATE))

    def asset(self, name: str, version: str | None) -> Response:
        if name not in ASSETS:
            raise NotFound(f"no console file {name!r}")
        cache = IMMUTABLE if version == self.versions[name] else REVALIDATE
        return Response((self.directory / name).read_bytes(), media_type=ASSETS[name], headers=self.headers(cache))


def mount(app: FastAPI, console: Console) -> None:
    """`GET /console` and its files, outside the OpenAPI document (they are not API)."""

    @app.get(PREFIX, include_in_schema=False)
    def console_page() -> Response:
        return console.index()

    @app.get(PREFIX + "/{name}", include_in_schema=False)
    def console_asset(name: str, request: Request) -> Response:
        return console.asset(name, request.query_params.get("v"))


def bucket_origin(bucket: str | None) -> str | None:
    """scheme://host[:port] of the bucket's presigned URLs (virtual-hosted or path-style,
    AWS or the local stack's), from the URL boto3 itself would sign."""
    if not bucket:
        return None
    from urllib.parse import urlsplit

    from courier.aws import client

    parts = urlsplit(client("s3").generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "console"}, ExpiresIn=60))
    return f"{parts.scheme}://{parts.netloc}"
