"""Getting the video to /tmp: from our bucket (tenant prefix enforced) or an https URL
guarded against SSRF.

URL fetches resolve the host themselves, refuse any address that is not public
(private, loopback, link-local and the metadata service, multicast, reserved, and their
IPv6 and IPv4-mapped forms), connect to the vetted address (TLS still checks the
name), and do it again for every redirect; the body is capped in size and time.
"""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import urljoin, urlsplit, urlunsplit

from courier.errors import CourierError, InvalidInput
from courier.video.errors import bad_video

MAX_BYTES = 1024 * 1024 * 1024
TIMEOUT_SECONDS = 60.0
MAX_REDIRECTS = 5
Resolver = Callable[[str, int], Iterable[str]]
AddressPolicy = Callable[[ipaddress.IPv4Address | ipaddress.IPv6Address], bool]


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return is_public(address.ipv4_mapped)
    return address.is_global and not address.is_multicast


def system_resolver(host: str, port: int) -> list[str]:
    try:
        return sorted({info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})
    except socket.gaierror as error:
        raise InvalidInput(f"cannot resolve {host}: {error.strerror}", code="unresolvable_host") from None


def fetch_url(
    url: str,
    destination: Path,
    *,
    resolver: Resolver = system_resolver,
    allowed: AddressPolicy = is_public,
    schemes: tuple[str, ...] = ("https",),
    max_bytes: int = MAX_BYTES,
    timeout: float = TIMEOUT_SECONDS,
) -> Path:
    import httpx

    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        if parts.scheme not in schemes or not parts.hostname:
            raise InvalidInput(f"only {', '.join(schemes)} URLs are fetched", code="unsupported_scheme")
        host, port = parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
        address = _vetted_address(host, port, resolver, allowed)
        netloc = f"[{address}]" if ":" in address else address
        pinned = urlunsplit((parts.scheme, f"{netloc}:{port}", parts.path or "/", parts.query, ""))
        headers = {"Host": parts.netloc.rsplit("@", 1)[-1], "User-Agent": "Courier/1 (video fetch)"}
        try:
            with httpx.Client(timeout=httpx.Timeout(timeout, connect=5.0), follow_redirects=False) as client:
                with client.stream("GET", pinned, headers=headers, extensions={"sni_hostname": host}) as response:
                    if response.is_redirect:
                        url = urljoin(url, response.headers.get("location", ""))
                        continue
                    if response.status_code in (408, 429) or response.status_code >= 500:
                        raise CourierError(f"the video host answered {response.status_code}", code="fetch_failed", status=502)
                    if response.status_code != 200:
                        raise InvalidInput(f"the video URL answered {response.status_code}", code="fetch_refused")
                    declared = int(response.headers.get("content-length") or 0)
                    if declared > max_bytes:
                        raise bad_video("video_too_large", f"the video is over {max_bytes // (1024 * 1024)} MB")
                    written = 0
                    with destination.open("wb") as file:
                        for chunk in response.iter_bytes(1024 * 1024):
                            written += len(chunk)
                            if written > max_bytes:
                                raise bad_video("video_too_large", f"the video is over {max_bytes // (1024 * 1024)} MB")
                            file.write(chunk)
                    return destination
        except httpx.TimeoutException:
            raise CourierError("the video download timed out", code="fetch_timeout", status=504) from None
        except httpx.HTTPError as error:
            raise CourierError(f"the video download failed: {type(error).__name__}", code="fetch_failed", status=502) from None
    raise InvalidInput(f"more than {MAX_REDIRECTS} redirects", code="too_many_redirects")


def _vetted_address(host: str, port: int, resolver: Resolver, allowed: AddressPolicy) -> str:
    try:
        literal = ipaddress.ip_address(host)
        candidates = [str(literal)]
    except ValueError:
        candidates = list(resolver(host, port))
    if not candidates:
        raise InvalidInput(f"cannot resolve {host}", code="unresolvable_host")
    for candidate in candidates:  # every address must be public: DNS may rotate between them
        if not allowed(ipaddress.ip_address(candidate)):
            raise InvalidInput(f"{host} resolves to a non-public address; refused", code="forbidden_address")
    return candidates[0]


def fetch_s3(bucket: str, key: str, tenant_id: str, destination: Path, *, max_bytes: int = MAX_BYTES) -> Path:
    """Stream an uploaded object to `destination`; only the tenant's own uploads."""
    from botocore.exceptions import BotoCoreError, ClientError

    from courier.aws import client
    from courier.uploads import uploads_prefix

    if not key.startswith(uploads_prefix(tenant_id)) or ".." in key:
        raise InvalidInput("videoKey must be one of your uploads", code="forbidden_key")
    s3 = client("s3")
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
        if head["ContentLength"] > max_bytes:
            raise bad_video("video_too_large", f"the video is over {max_bytes // (1024 * 1024)} MB")
        s3.download_file(bucket, key, str(destination))
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in ("404", "NoSuchKey", "NotFound"):
            raise InvalidInput(f"no upload at {key}", code="video_not_found") from None
        if code in ("403", "AccessDenied"):
            raise CourierError(f"cannot read {key}: access denied", code="s3_access_denied", retryable=False) from None
        raise CourierError(f"S3 failed ({code}); will retry", code="s3_unavailable", status=503) from None
    except BotoCoreError as error:  # endpoint unreachable, timeouts
        raise CourierError(f"S3 unreachable: {type(error).__name__}; will retry", code="s3_unavailable", status=503) from None
    return destination
