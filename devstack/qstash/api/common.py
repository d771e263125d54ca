"""What every resource's routes share: the bearer-token guard, the error shape, and the
destination exactly as the caller sent it."""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from devstack.qstash.engine import NotFound
from devstack.qstash.model import BadRequest

Handler = Callable[[Request], Awaitable[Response]]
DEFAULT_PAGE = 100


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def guarded(token: str, handler: Handler) -> Handler:
    """QStash's bearer token (or `qstash_token` in the query), then the handler; its
    NotFound and bad input become 404 and 400 in QStash's error shape."""

    async def endpoint(request: Request) -> Response:
        given = request.headers.get("authorization", "")
        given = given[7:] if given.lower().startswith("bearer ") else request.query_params.get("qstash_token", "")
        if not hmac.compare_digest(given.encode(), token.encode()):
            return error(401, "Unauthorized: a valid bearer token is required")
        try:
            return await handler(request)
        except NotFound as missing:
            return error(404, str(missing))
        except BadRequest as bad:
            return error(400, str(bad))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as bad:
            return error(400, f"invalid request: {bad}")

    return endpoint


def caller(request: Request) -> str | None:
    return request.client.host if request.client else None

def raw_destination(request: Request, prefix_parts: int) -> str:
    """The destination exactly as sent: raw path after the prefix, plus the raw query."""
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    parts = raw_path.decode("latin-1").split("/", prefix_parts)
    if len(parts) <= prefix_parts or not parts[-1]:
        raise BadRequest("a destination is required")
    destination = parts[-1]
    query = request.scope.get("query_string", b"").decode("latin-1")
    if query:
        destination += "?" + query
    if not destination.startswith(("http://", "https://")):
        destination = unquote(destination)  # a URL group name
    return destination
