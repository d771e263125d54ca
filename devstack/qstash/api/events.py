"""The event log (SDK: client.event; /v2/logs is its older name)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from devstack.qstash.api.common import DEFAULT_PAGE
from devstack.qstash.engine import Engine


def routes(engine: Engine) -> list[Route]:
    store = engine.store

    # --- events (logs) --------------------------------------------------------------
    async def events(request: Request) -> Response:
        params = request.query_params
        count = min(int(params.get("count", DEFAULT_PAGE)), 1000)
        cursor = int(params["cursor"]) if params.get("cursor") else None
        wanted_ids = set(params.getlist("messageIds")) | ({params["messageId"]} if "messageId" in params else set())
        filters = {k: params[k] for k in ("state", "url", "topicName", "queueName", "scheduleId", "label") if k in params}
        found: list[dict[str, Any]] = []
        next_cursor = last_id = None
        for event_id, event in store.events(before_id=cursor):
            if wanted_ids and event["messageId"] not in wanted_ids:
                continue
            if any(event.get(k) != v for k, v in filters.items()):
                continue
            if "fromDate" in params and event["time"] < int(params["fromDate"]):
                continue
            if "toDate" in params and event["time"] > int(params["toDate"]):
                continue
            if len(found) == count:
                next_cursor = str(last_id)
                break
            found.append(event)
            last_id = event_id
        body: dict[str, Any] = {"events": found}
        if next_cursor:
            body["cursor"] = next_cursor
        return JSONResponse(body)

    return [
        Route("/v2/events", events, methods=["GET"]),
        Route("/v2/logs", events, methods=["GET"]),
    ]
