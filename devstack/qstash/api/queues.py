"""Queues: FIFO with a parallelism, pause and resume (SDK: client.queue)."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from devstack.qstash.api.common import Handler
from devstack.qstash.engine import Engine, NotFound
from devstack.qstash.store import Queue


def routes(engine: Engine) -> list[Route]:
    store = engine.store

    # --- queues ---------------------------------------------------------------------
    def queue_view(queue: Queue) -> dict[str, Any]:
        return {
            "name": queue.name, "parallelism": queue.parallelism, "paused": queue.paused,
            "createdAt": queue.created_at, "updatedAt": queue.updated_at, "lag": store.queue_lag(queue.name),
        }

    async def upsert_queue(request: Request) -> Response:
        spec = json.loads(await request.body())
        engine.upsert_queue(spec["queueName"], int(spec.get("parallelism", 1)), bool(spec.get("paused", False)))
        return Response(status_code=200)

    async def get_queue(request: Request) -> Response:
        queue = store.get_queue(request.path_params["name"])
        if queue is None:
            raise NotFound(f"queue {request.path_params['name']} not found")
        return JSONResponse(queue_view(queue))

    async def list_queues(request: Request) -> Response:
        return JSONResponse([queue_view(q) for q in store.queues()])

    async def delete_queue(request: Request) -> Response:
        engine.delete_queue(request.path_params["name"])
        return Response(status_code=200)

    def pause_queue(paused: bool) -> Handler:
        async def handler(request: Request) -> Response:
            engine.set_queue_paused(request.path_params["name"], paused)
            return Response(status_code=200)

        return handler

    return [
        Route("/v2/queues", upsert_queue, methods=["POST"]),
        Route("/v2/queues", list_queues, methods=["GET"]),
        Route("/v2/queues/{name}/pause", pause_queue(True), methods=["POST"]),
        Route("/v2/queues/{name}/resume", pause_queue(False), methods=["POST"]),
        Route("/v2/queues/{name}", get_queue, methods=["GET"]),
        Route("/v2/queues/{name}", delete_queue, methods=["DELETE"]),
    ]
