"""Schedules: create (a cron per destination), read, list, pause, resume, delete (SDK: client.schedule)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from devstack.qstash.api.common import Handler, caller, raw_destination
from devstack.qstash.engine import Engine, NotFound
from devstack.qstash.model import Settings, body_fields


def routes(engine: Engine) -> list[Route]:
    store = engine.store

    # --- schedules ------------------------------------------------------------------
    def schedule_view(body: bytes, data: dict[str, Any]) -> dict[str, Any]:
        settings = Settings.from_record(data["settings"])
        view: dict[str, Any] = {
            "scheduleId": data["scheduleId"],
            "destination": data["destination"],
            "cron": data["cron"],
            "createdAt": data["createdAt"],
            "method": settings.method,
            "header": settings.headers,
            "retries": settings.retries,
            "isPaused": data.get("isPaused", False),
            **(body_fields(body) if body else {}),
        }
        optional = {
            "callback": settings.callback, "failureCallback": settings.failure_callback,
            "callbackHeader": settings.callback_headers or None,
            "failureCallbackHeader": settings.failure_callback_headers or None,
            "delay": int(settings.delay) or None, "timeout": int(settings.timeout),
            "callerIP": data.get("callerIP"), "queueName": settings.queue, "label": settings.label,
            "retryDelayExpression": settings.retry_delay,
            "lastScheduleTime": data.get("lastScheduleTime"), "nextScheduleTime": data.get("nextScheduleTime"),
            "lastScheduleStates": data.get("lastScheduleStates") or None, "error": data.get("error"),
        }
        view.update({k: v for k, v in optional.items() if v is not None})
        if settings.flow:
            view.update(settings.flow.view())
        return view

    async def create_schedule(request: Request) -> Response:
        settings = Settings.from_headers(request.headers.items())
        schedule_id = engine.create_schedule(raw_destination(request, 3), await request.body(), settings, caller(request))
        return JSONResponse({"scheduleId": schedule_id}, status_code=201)

    async def get_schedule(request: Request) -> Response:
        found = store.get_schedule(request.path_params["id"])
        if found is None:
            raise NotFound(f"schedule {request.path_params['id']} not found")
        return JSONResponse(schedule_view(*found))

    async def list_schedules(request: Request) -> Response:
        return JSONResponse([schedule_view(body, data) for body, data in store.schedules()])

    async def delete_schedule(request: Request) -> Response:
        engine.delete_schedule(request.path_params["id"])
        return Response(status_code=200)

    def pause_schedule(paused: bool) -> Handler:
        async def handler(request: Request) -> Response:
            engine.set_schedule_paused(request.path_params["id"], paused)
            return Response(status_code=200)

        return handler

    return [
        Route("/v2/schedules", list_schedules, methods=["GET"]),
        Route("/v2/schedules/{id}/pause", pause_schedule(True), methods=["PATCH", "POST"]),
        Route("/v2/schedules/{id}/resume", pause_schedule(False), methods=["PATCH", "POST"]),
        Route("/v2/schedules/{id}", get_schedule, methods=["GET"]),
        Route("/v2/schedules/{id}", delete_schedule, methods=["DELETE"]),
        Route("/v2/schedules/{destination:path}", create_schedule, methods=["POST"]),
    ]
