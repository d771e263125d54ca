"""Messages: publish, enqueue, batch, read and cancel (SDK: client.message)."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from devstack.qstash.api.common import caller, raw_destination
from devstack.qstash.engine import Engine, NotFound
from devstack.qstash.model import BadRequest, Settings


def routes(engine: Engine) -> list[Route]:
    store = engine.store

    async def publish(request: Request) -> Response:
        settings = Settings.from_headers(request.headers.items())
        result = engine.publish(raw_destination(request, 3), await request.body(), settings, caller_ip=caller(request))
        return JSONResponse(result, status_code=201)

    async def enqueue(request: Request) -> Response:
        queue = request.path_params["queue"]
        settings = Settings.from_headers(request.headers.items())
        result = engine.publish(raw_destination(request, 4), await request.body(), settings, queue=queue, caller_ip=caller(request))
        return JSONResponse(result, status_code=201)

    async def batch(request: Request) -> Response:
        items = json.loads(await request.body())
        if not isinstance(items, list):
            raise BadRequest("batch body must be a JSON array")
        results = []
        for item in items:
            settings = Settings.from_headers(list((item.get("headers") or {}).items()))
            body = item.get("body")
            payload = body.encode() if isinstance(body, str) else b""
            destination = item.get("destination") or ""
            results.append(engine.publish(destination, payload, settings, queue=item.get("queue"), caller_ip=caller(request)))
        return JSONResponse(results, status_code=201)

    async def get_message(request: Request) -> Response:
        message = store.get_message(request.path_params["id"])
        shown = message.api_view() if message else engine.delivered(request.path_params["id"])
        if shown is None:
            raise NotFound(f"message {request.path_params['id']} not found")
        return JSONResponse(shown)

    async def cancel_message(request: Request) -> Response:
        if not engine.cancel([request.path_params["id"]]):
            raise NotFound(f"message {request.path_params['id']} not found")
        return Response(status_code=202)

    async def cancel_messages(request: Request) -> Response:
        raw = await request.body()
        ids = json.loads(raw).get("messageIds") if raw.strip() else None
        cancelled = engine.cancel(list(ids)) if ids is not None else engine.cancel_all()
        return JSONResponse({"cancelled": cancelled})

    return [
        Route("/v2/publish/{destination:path}", publish, methods=["POST"]),
        Route("/v2/enqueue/{queue}/{destination:path}", enqueue, methods=["POST"]),
        Route("/v2/batch", batch, methods=["POST"]),
        Route("/v2/messages/{id}", get_message, methods=["GET"]),
        Route("/v2/messages/{id}", cancel_message, methods=["DELETE"]),
        Route("/v2/messages", cancel_messages, methods=["DELETE"]),
    ]
