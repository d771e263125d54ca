"""Fetching a page politely: through the one network policy (https, public addresses only,
every redirect checked), within a size and a time limit, and only where the site's
robots.txt lets Courier's user agent go."""

from __future__ import annotations

import time
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit
from urllib.robotparser import RobotFileParser

from courier.jobs import CourierError, InvalidInput, NetworkPolicy

USER_AGENT = "CourierDigest/1 (+https://github.com/courier)"
ROBOTS_MAX_BYTES = 512 * 1024
TIMEOUT_SECONDS = 20.0
#: Sites that answer robots.txt with one of these have no rules for us (RFC 9309 2.3.1.3).
ROBOTS_ABSENT = frozenset({401, 403, 404, 410})
TEXT_TYPES = ("text/html", "application/xhtml+xml", "text/plain")


class Page:
    def __init__(self, url: str, status: int, content_type: str, body: bytes, seconds: float) -> None:
        self.url, self.status, self.content_type, self.body, self.seconds = url, status, content_type, body, seconds


def fetch(url: str, *, max_bytes: int, policy: NetworkPolicy | None = None, timeout: float = TIMEOUT_SECONDS) -> Page:
    """`timeout` bounds the whole fetch: robots.txt (when not known yet), the page and its body."""
    policy = policy or NetworkPolicy.from_env()
    started = time.monotonic()
    if not allowed_by_robots(url, policy, timeout):
        raise InvalidInput(f"{url}: the site's robots.txt does not allow fetching it", code="robots_disallowed")
    left = timeout - (time.monotonic() - started)
    if left <= 0:
        raise CourierError(f"{url}: no time left after robots.txt", code="page_unavailable", status=503)
    try:
        with policy.stream("GET", url, timeout=left, headers=_headers(), what="url") as response:
            if response.status_code in (408, 429) or response.status_code >= 500:
                raise CourierError(f"{url} answered {response.status_code}", code="page_unavailable", status=503)
            if response.status_code >= 400:
                raise InvalidInput(f"{url} answered {response.status_code}", code="page_not_found")
            content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type and not content_type.startswith(TEXT_TYPES):
                raise InvalidInput(f"{url} is {content_type}, not a web page", code="not_a_page")
            length = response.headers.get("content-length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise InvalidInput(f"{url} is {length} bytes; at most {max_bytes}", code="page_too_large")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise InvalidInput(f"{url} is over {max_bytes} bytes", code="page_too_large")
            return Page(str(url), response.status_code, content_type, bytes(body), time.monotonic() - started)
    except CourierError:
        raise
    except Exception as error:  # httpx: refused, reset, timed out; the site may come back
        raise CourierError(f"{url}: {type(error).__name__}", code="page_unavailable", status=503) from None


def allowed_by_robots(url: str, policy: NetworkPolicy, timeout: float = TIMEOUT_SECONDS) -> bool:
    parts = urlsplit(url)
    rules = _robots(urlunsplit((parts.scheme, parts.netloc, "/robots.txt", "", "")), policy, timeout)
    return rules.can_fetch(USER_AGENT, url)


@lru_cache(maxsize=256)
def _robots(robots_url: str, policy: NetworkPolicy, timeout: float) -> RobotFileParser:
    """One site's rules, kept for the warm function's life (a digest fetches many pages of one site)."""
    parser = RobotFileParser(robots_url)
    try:
        status, _, body = policy.send("GET", robots_url, timeout=min(timeout, 10.0), headers=_headers(), max_bytes=ROBOTS_MAX_BYTES, what="url")
    except InvalidInput:
        raise
    except Exception as error:  # unreachable now: not the same as "no rules"; try the page later
        raise CourierError(f"{robots_url}: {type(error).__name__}", code="page_unavailable", status=503) from None
    if status in ROBOTS_ABSENT:
        parser.parse([])  # no rules: everything allowed
    elif status >= 400:  # 5xx: RFC 9309 says assume complete disallow until it answers
        raise CourierError(f"{robots_url} answered {status}", code="page_unavailable", status=503)
    else:
        parser.parse(body.decode("utf-8", errors="replace").splitlines())
    return parser


def _headers() -> dict[str, str]:
    return {"User-Agent": USER_AGENT, "Accept": "text/html,application/xhtml+xml;q=0.9,text/plain;q=0.5"}
