"""The dead-letter queue: list, read, delete, retry (SDK: client.dlq)."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from devstack.qstash.api.common import DEFAULT_PAGE
from devstack.qstash.engine import Engine, NotFound
from devstack.qstash.store import Store


def _matches(message_view: dict[str, Any], details: dict[str, Any], created: int, params: Any) -> bool:
    checks = {
        "messageId": message_view["messageId"], "url": message_view["url"],
        "topicName": message_view.get("topicName"), "queueName": message_view.get("queueName"),
        "scheduleId": message_view.get("scheduleId"), "callerIp": message_view.get("callerIP"),
        "label": message_view.get("label"),
    }
    for name, actual in checks.items():
        if name in params and params[name] != actual:
            return False
    if "responseStatus" in params and int(params["responseStatus"]) != details["responseStatus"]:
        return False
    if "fromDate" in params and created < int(params["fromDate"]):
        return False
    return not ("toDate" in params and created > int(params["toDate"]))

def dlq_page(store: Store, params: Any) -> tuple[list[tuple[str, dict[str, Any]]], str | None]:
    count = min(int(params.get("count", DEFAULT_PAGE)), DEFAULT_PAGE)
    after = int(params.get("cursor") or 0)
    found: list[tuple[str, dict[str, Any]]] = []
    last_seq = 0
    for seq, dlq_id, message, details in store.dlq_entries(after_seq=after):
        view = {**message.api_view(), **details, "dlqId": dlq_id}
        if not _matches(view, details, message.created_at, params):
            continue
        if len(found) == count:
            return found, str(last_seq)
        found.append((dlq_id, view))
        last_seq = seq
    return found, None


def routes(engine: Engine) -> list[Route]:
    store = engine.store

    async def list_dlq(request: Request) -> Response:
        page, cursor = dlq_page(store, request.query_params)
        body: dict[str, Any] = {"messages": [view for _, view in page]}
        if cursor:
            body["cursor"] = cursor
        return JSONResponse(body)

    async def get_dlq(request: Request) -> Response:
        found = store.get_dlq(request.path_params["id"])
        if found is None:
            raise NotFound(f"dlq message {request.path_params['id']} not found")
        message, details = found
        return JSONResponse({**message.api_view(), **details, "dlqId": request.path_params["id"]})

    async def delete_dlq(request: Request) -> Response:
        if not engine.delete_dead_letters([request.path_params["id"]]):
            raise NotFound(f"dlq message {request.path_params['id']} not found")
        return Response(status_code=200)

    async def delete_dlq_many(request: Request) -> Response:
        ids = json.loads(await request.body())["dlqIds"]
        return JSONResponse({"deleted": engine.delete_dead_letters(ids)})

    async def retry_dlq(request: Request) -> Response:
        return JSONResponse(engine.retry_dead_letter(request.path_params["id"], list(request.headers.items())))

    async def retry_dlq_many(request: Request) -> Response:
        ids = request.query_params.getlist("dlqIds")
        cursor = None
        if not ids:
            page, cursor = dlq_page(store, request.query_params)
            ids = [dlq_id for dlq_id, _ in page]
        responses = [engine.retry_dead_letter(dlq_id, list(request.headers.items())) for dlq_id in ids]
        body: dict[str, Any] = {"responses": responses}
        if cursor:
            body["cursor"] = cursor
        return JSONResponse(body)

    return [
        Route("/v2/dlq", list_dlq, methods=["GET"]),
        Route("/v2/dlq", delete_dlq_many, methods=["DELETE"]),
        Route("/v2/dlq/retry", retry_dlq_many, methods=["POST"]),
        Route("/v2/dlq/retry/{id}", retry_dlq, methods=["POST"]),
        Route("/v2/dlq/{id}", get_dlq, methods=["GET"]),
        Route("/v2/dlq/{id}", delete_dlq, methods=["DELETE"]),
    ]
