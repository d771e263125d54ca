"""Flow control: each key's state, the global parallelism, and pause, resume, pin, unpin and
resetRate (SDK: client.flow_control / client.flowControl)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from devstack.qstash.api.common import Handler
from devstack.qstash.durations import parse_duration
from devstack.qstash.engine import Engine, NotFound
from devstack.qstash.engine.flow_control import FlowKey, flow_view
from devstack.qstash.model import BadRequest


def routes(engine: Engine) -> list[Route]:
    def view(flow: FlowKey) -> dict[str, object]:
        return flow_view(flow, engine.flow_waiting(flow.key), engine.clock.time())

    async def list_keys(request: Request) -> Response:
        return JSONResponse([view(flow) for _, flow in sorted(engine.flows.keys.items())])

    async def get_key(request: Request) -> Response:
        flow = engine.flows.get(request.path_params["key"])
        if flow is None:
            raise NotFound(f"flow control key {request.path_params['key']} not found")
        return JSONResponse(view(flow))

    async def global_parallelism(request: Request) -> Response:
        return JSONResponse({"parallelismMax": engine.max_concurrency, "parallelismCount": engine.in_flight})

    def pausing(paused: bool) -> Handler:
        async def handler(request: Request) -> Response:
            engine.set_flow_paused(request.path_params["key"], paused)
            return Response(status_code=200)

        return handler

    async def pin(request: Request) -> Response:
        query = request.query_params
        period = query.get("period")
        engine.pin_flow(request.path_params["key"], parallelism=_number(query.get("parallelism")), rate=_number(query.get("rate")),
                        period=parse_duration(period) if period else None)
        return Response(status_code=200)

    async def unpin(request: Request) -> Response:
        query = request.query_params
        engine.unpin_flow(request.path_params["key"], parallelism=query.get("parallelism") == "true", rate=query.get("rate") == "true")
        return Response(status_code=200)

    async def reset_rate(request: Request) -> Response:
        engine.reset_flow_rate(request.path_params["key"])
        return Response(status_code=200)

    return [
        Route("/v2/flowControl", list_keys, methods=["GET"]),
        Route("/v2/flowControl/", list_keys, methods=["GET"]),
        Route("/v2/globalParallelism", global_parallelism, methods=["GET"]),
        Route("/v2/flowControl/{key}/pause", pausing(True), methods=["POST"]),
        Route("/v2/flowControl/{key}/resume", pausing(False), methods=["POST"]),
        Route("/v2/flowControl/{key}/pin", pin, methods=["POST"]),
        Route("/v2/flowControl/{key}/unpin", unpin, methods=["POST"]),
        Route("/v2/flowControl/{key}/resetRate", reset_rate, methods=["POST"]),
        Route("/v2/flowControl/{key}", get_key, methods=["GET"]),
    ]


def _number(value: str | None) -> int | None:
    if value in (None, ""):
        return None
    if not value.isdigit():
        raise BadRequest(f"{value!r} is not a whole number")
    return int(value)
