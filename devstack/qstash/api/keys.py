"""Signing keys: the current and next, and their rotation (SDK: client.signing_key)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from devstack.qstash.engine import Engine


def routes(engine: Engine) -> list[Route]:
    # --- signing keys ---------------------------------------------------------------
    async def get_keys(request: Request) -> Response:
        return JSONResponse({"current": engine.keys[0], "next": engine.keys[1]})

    async def rotate_keys(request: Request) -> Response:
        current, next_ = engine.rotate_keys()
        return JSONResponse({"current": current, "next": next_})

    return [
        Route("/v2/keys", get_keys, methods=["GET"]),
        Route("/v2/keys/rotate", rotate_keys, methods=["POST"]),
    ]
