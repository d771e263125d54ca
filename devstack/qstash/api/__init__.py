"""QStash's REST API v2, shaped as the official SDKs call it and parse its answers: one
module per resource, as the SDK has one per API (messages, queues, schedules, URL groups,
DLQ, events, flow control, keys). Reads go to the store; every write goes through the engine."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from devstack.qstash.api import dlq, events, flow_control, keys, messages, queues, schedules, url_groups
from devstack.qstash.api.common import error, guarded
from devstack.qstash.engine import Engine

RESOURCES = (messages, dlq, events, schedules, queues, url_groups, flow_control, keys)


def build_app(engine: Engine, token: str) -> Starlette:
    routes = [
        Route(route.path, guarded(token, route.endpoint), methods=list(route.methods or ()))
        for resource in RESOURCES for route in resource.routes(engine)
    ]

    async def not_found(request: Request, exc: Exception) -> Response:
        return error(404, f"no such endpoint: {request.method} {request.url.path}")

    async def not_allowed(request: Request, exc: Exception) -> Response:
        return error(405, f"method {request.method} not allowed on {request.url.path}")

    return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_allowed})
