"""Getting the video to /tmp: from our bucket (tenant prefix enforced) or an https URL
through the one network policy (courier.network: SSRF-safe, every redirect checked);
the body is capped in size and time.
"""

from __future__ import annotations

from pathlib import Path

from courier.errors import CourierError, InvalidInput
from courier.network import NetworkPolicy
from courier.video.errors import bad_video

MAX_BYTES = 1024 * 1024 * 1024
#: The whole download, not each read: a server that trickles bytes cannot hold the worker
#: past it (1 GB at 3.5 MB/s; the worker has 900 s).
TIMEOUT_SECONDS = 300.0


def fetch_url(
    url: str, destination: Path, *, policy: NetworkPolicy | None = None, max_bytes: int = MAX_BYTES, timeout: float = TIMEOUT_SECONDS,
) -> Path:
    import httpx

    policy = policy or NetworkPolicy.from_env()
    try:
        with policy.stream("GET", url, timeout=timeout, what="video URL") as response:
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


def fetch_s3(bucket: str, key: str, tenant_id: str, destination: Path, *, max_bytes: int = MAX_BYTES) -> Path:
    """Stream an uploaded object to `destination`; only the tenant's own uploads."""
    from courier.aws import client
    from courier.uploads import reading_upload, require_own_upload

    require_own_upload(key, tenant_id, "videoKey")
    s3 = client("s3")
    with reading_upload(key, not_found_code="video_not_found"):
        head = s3.head_object(Bucket=bucket, Key=key)
        if head["ContentLength"] > max_bytes:
            raise bad_video("video_too_large", f"the video is over {max_bytes // (1024 * 1024)} MB")
        s3.download_file(bucket, key, str(destination))
    return destination
