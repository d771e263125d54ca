"""QStash's REST API v2, shaped as the official SDKs call it and parse its answers."""

from __future__ import annotations

import hmac
import json
from typing import Any, Awaitable, Callable
from urllib.parse import unquote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from devstack.qstash.engine import Engine, NotFound
from devstack.qstash.model import BadRequest, Settings, body_fields
from devstack.qstash.store import Queue

Handler = Callable[[Request], Awaitable[Response]]
DEFAULT_PAGE = 100


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def build_app(engine: Engine, token: str) -> Starlette:
    store = engine.store

    def guarded(handler: Handler) -> Handler:
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

    # --- messages -------------------------------------------------------------------
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
        if message is None:
            raise NotFound(f"message {request.path_params['id']} not found")
        return JSONResponse(message.api_view())

    async def cancel_message(request: Request) -> Response:
        if not engine.cancel([request.path_params["id"]]):
            raise NotFound(f"message {request.path_params['id']} not found")
        return Response(status_code=202)

    async def cancel_messages(request: Request) -> Response:
        raw = await request.body()
        ids = json.loads(raw).get("messageIds") if raw.strip() else None
        cancelled = engine.cancel(list(ids)) if ids is not None else engine.cancel_all()
        return JSONResponse({"cancelled": cancelled})

    # --- dead letter queue ----------------------------------------------------------
    def dlq_matches(message_view: dict[str, Any], details: dict[str, Any], created: int, params: Any) -> bool:
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

    def dlq_page(params: Any) -> tuple[list[tuple[str, dict[str, Any]]], str | None]:
        count = min(int(params.get("count", DEFAULT_PAGE)), DEFAULT_PAGE)
        after = int(params.get("cursor") or 0)
        found: list[tuple[str, dict[str, Any]]] = []
        last_seq = 0
        for seq, dlq_id, message, details in store.dlq_entries(after_seq=after):
            view = {**message.api_view(), **details, "dlqId": dlq_id}
            if not dlq_matches(view, details, message.created_at, params):
                continue
            if len(found) == count:
                return found, str(last_seq)
            found.append((dlq_id, view))
            last_seq = seq
        return found, None

    async def list_dlq(request: Request) -> Response:
        page, cursor = dlq_page(request.query_params)
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
        with store.transaction():
            deleted = store.delete_dlq([request.path_params["id"]])
        if not deleted:
            raise NotFound(f"dlq message {request.path_params['id']} not found")
        return Response(status_code=200)

    async def delete_dlq_many(request: Request) -> Response:
        ids = json.loads(await request.body())["dlqIds"]
        with store.transaction():
            deleted = store.delete_dlq(ids)
        return JSONResponse({"deleted": deleted})

    async def retry_dlq(request: Request) -> Response:
        return JSONResponse(engine.retry_dead_letter(request.path_params["id"], list(request.headers.items())))

    async def retry_dlq_many(request: Request) -> Response:
        ids = request.query_params.getlist("dlqIds")
        cursor = None
        if not ids:
            page, cursor = dlq_page(request.query_params)
            ids = [dlq_id for dlq_id, _ in page]
        responses = [engine.retry_dead_letter(dlq_id, list(request.headers.items())) for dlq_id in ids]
        body: dict[str, Any] = {"responses": responses}
        if cursor:
            body["cursor"] = cursor
        return JSONResponse(body)

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
            view["flowControlKey"] = settings.flow.key
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
        with store.transaction():
            if not store.delete_schedule(request.path_params["id"]):
                raise NotFound(f"schedule {request.path_params['id']} not found")
        return Response(status_code=200)

    def pause_schedule(paused: bool) -> Handler:
        async def handler(request: Request) -> Response:
            engine.set_schedule_paused(request.path_params["id"], paused)
            return Response(status_code=200)

        return handler

    # --- queues ---------------------------------------------------------------------
    def queue_view(queue: Queue) -> dict[str, Any]:
        return {
            "name": queue.name, "parallelism": queue.parallelism, "paused": queue.paused,
            "createdAt": queue.created_at, "updatedAt": queue.updated_at, "lag": store.queue_lag(queue.name),
        }

    async def upsert_queue(request: Request) -> Response:
        spec = json.loads(await request.body())
        parallelism = int(spec.get("parallelism", 1))
        if parallelism < 1:
            raise BadRequest("parallelism must be at least 1")
        with store.transaction():
            store.upsert_queue(spec["queueName"], parallelism, bool(spec.get("paused", False)), engine.clock.ms())
        engine.wake()
        return Response(status_code=200)

    async def get_queue(request: Request) -> Response:
        queue = store.get_queue(request.path_params["name"])
        if queue is None:
            raise NotFound(f"queue {request.path_params['name']} not found")
        return JSONResponse(queue_view(queue))

    async def list_queues(request: Request) -> Response:
        return JSONResponse([queue_view(q) for q in store.queues()])

    async def delete_queue(request: Request) -> Response:
        name = request.path_params["name"]
        with store.transaction():
            if not store.delete_queue(name):
                raise NotFound(f"queue {name} not found")
        return Response(status_code=200)

    def pause_queue(paused: bool) -> Handler:
        async def handler(request: Request) -> Response:
            with store.transaction():
                if not store.set_queue_paused(request.path_params["name"], paused, engine.clock.ms()):
                    raise NotFound(f"queue {request.path_params['name']} not found")
            engine.wake()
            return Response(status_code=200)

        return handler

    # --- URL groups -----------------------------------------------------------------
    async def upsert_endpoints(request: Request) -> Response:
        name = request.path_params["name"]
        wanted = json.loads(await request.body())["endpoints"]
        topic = store.get_topic(name)
        endpoints = topic["endpoints"] if topic else []
        for endpoint in wanted:
            if not str(endpoint.get("url", "")).startswith(("http://", "https://")):
                raise BadRequest("every endpoint needs an http(s) url")
            endpoints = [e for e in endpoints if e["url"] != endpoint["url"] and (not endpoint.get("name") or e.get("name") != endpoint.get("name"))]
            endpoints.append({k: endpoint[k] for k in ("url", "name") if endpoint.get(k)})
        with store.transaction():
            store.save_topic(name, endpoints, engine.clock.ms())
        return Response(status_code=200)

    async def remove_endpoints(request: Request) -> Response:
        name = request.path_params["name"]
        topic = store.get_topic(name)
        if topic is None:
            raise NotFound(f"topic {name} not found")
        removed = json.loads(await request.body())["endpoints"]
        endpoints = [
            e for e in topic["endpoints"]
            if not any((r.get("url") and r["url"] == e["url"]) or (r.get("name") and r["name"] == e.get("name")) for r in removed)
        ]
        with store.transaction():
            store.save_topic(name, endpoints, engine.clock.ms())
        return Response(status_code=200)

    async def get_topic(request: Request) -> Response:
        topic = store.get_topic(request.path_params["name"])
        if topic is None:
            raise NotFound(f"topic {request.path_params['name']} not found")
        return JSONResponse(topic)

    async def list_topics(request: Request) -> Response:
        return JSONResponse(store.topics())

    async def delete_topic(request: Request) -> Response:
        with store.transaction():
            if not store.delete_topic(request.path_params["name"]):
                raise NotFound(f"topic {request.path_params['name']} not found")
        return Response(status_code=200)

    # --- signing keys ---------------------------------------------------------------
    async def get_keys(request: Request) -> Response:
        return JSONResponse({"current": engine.keys[0], "next": engine.keys[1]})

    async def rotate_keys(request: Request) -> Response:
        current, next_ = engine.rotate_keys()
        return JSONResponse({"current": current, "next": next_})

    routes = [
        Route("/v2/publish/{destination:path}", guarded(publish), methods=["POST"]),
        Route("/v2/enqueue/{queue}/{destination:path}", guarded(enqueue), methods=["POST"]),
        Route("/v2/batch", guarded(batch), methods=["POST"]),
        Route("/v2/messages/{id}", guarded(get_message), methods=["GET"]),
        Route("/v2/messages/{id}", guarded(cancel_message), methods=["DELETE"]),
        Route("/v2/messages", guarded(cancel_messages), methods=["DELETE"]),
        Route("/v2/dlq", guarded(list_dlq), methods=["GET"]),
        Route("/v2/dlq", guarded(delete_dlq_many), methods=["DELETE"]),
        Route("/v2/dlq/retry", guarded(retry_dlq_many), methods=["POST"]),
        Route("/v2/dlq/retry/{id}", guarded(retry_dlq), methods=["POST"]),
        Route("/v2/dlq/{id}", guarded(get_dlq), methods=["GET"]),
        Route("/v2/dlq/{id}", guarded(delete_dlq), methods=["DELETE"]),
        Route("/v2/events", guarded(events), methods=["GET"]),
        Route("/v2/logs", guarded(events), methods=["GET"]),
        Route("/v2/schedules", guarded(list_schedules), methods=["GET"]),
        Route("/v2/schedules/{id}/pause", guarded(pause_schedule(True)), methods=["PATCH", "POST"]),
        Route("/v2/schedules/{id}/resume", guarded(pause_schedule(False)), methods=["PATCH", "POST"]),
        Route("/v2/schedules/{id}", guarded(get_schedule), methods=["GET"]),
        Route("/v2/schedules/{id}", guarded(delete_schedule), methods=["DELETE"]),
        Route("/v2/schedules/{destination:path}", guarded(create_schedule), methods=["POST"]),
        Route("/v2/queues", guarded(upsert_queue), methods=["POST"]),
        Route("/v2/queues", guarded(list_queues), methods=["GET"]),
        Route("/v2/queues/{name}/pause", guarded(pause_queue(True)), methods=["POST"]),
        Route("/v2/queues/{name}/resume", guarded(pause_queue(False)), methods=["POST"]),
        Route("/v2/queues/{name}", guarded(get_queue), methods=["GET"]),
        Route("/v2/queues/{name}", guarded(delete_queue), methods=["DELETE"]),
        Route("/v2/topics", guarded(list_topics), methods=["GET"]),
        Route("/v2/topics/{name}/endpoints", guarded(upsert_endpoints), methods=["POST"]),
        Route("/v2/topics/{name}/endpoints", guarded(remove_endpoints), methods=["DELETE"]),
        Route("/v2/topics/{name}", guarded(get_topic), methods=["GET"]),
        Route("/v2/topics/{name}", guarded(delete_topic), methods=["DELETE"]),
        Route("/v2/keys", guarded(get_keys), methods=["GET"]),
        Route("/v2/keys/rotate", guarded(rotate_keys), methods=["POST"]),
    ]

    async def not_found(request: Request, exc: Exception) -> Response:
        return error(404, f"no such endpoint: {request.method} {request.url.path}")

    async def not_allowed(request: Request, exc: Exception) -> Response:
        return error(405, f"method {request.method} not allowed on {request.url.path}")

    return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_allowed})
