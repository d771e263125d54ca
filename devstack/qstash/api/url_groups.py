"""URL groups (topics): endpoints that one publish fans out to (SDK: client.url_group)."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from devstack.qstash.engine import Engine, NotFound


def routes(engine: Engine) -> list[Route]:
    store = engine.store

    # --- URL groups -----------------------------------------------------------------
    async def upsert_endpoints(request: Request) -> Response:
        engine.add_endpoints(request.path_params["name"], json.loads(await request.body())["endpoints"])
        return Response(status_code=200)

    async def remove_endpoints(request: Request) -> Response:
        engine.remove_endpoints(request.path_params["name"], json.loads(await request.body())["endpoints"])
        return Response(status_code=200)

    async def get_topic(request: Request) -> Response:
        topic = store.get_topic(request.path_params["name"])
        if topic is None:
            raise NotFound(f"topic {request.path_params['name']} not found")
        return JSONResponse(topic)

    async def list_topics(request: Request) -> Response:
        return JSONResponse(store.topics())

    async def delete_topic(request: Request) -> Response:
        engine.delete_topic(request.path_params["name"])
        return Response(status_code=200)

    return [
        Route("/v2/topics", list_topics, methods=["GET"]),
        Route("/v2/topics/{name}/endpoints", upsert_endpoints, methods=["POST"]),
        Route("/v2/topics/{name}/endpoints", remove_endpoints, methods=["DELETE"]),
        Route("/v2/topics/{name}", get_topic, methods=["GET"]),
        Route("/v2/topics/{name}", delete_topic, methods=["DELETE"]),
    ]
