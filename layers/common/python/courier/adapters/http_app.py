"""FastAPI apps for Lambda: the error shape and Mangum wiring they share."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from mangum import Mangum
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from courier import __version__
from courier.errors import CourierError, error_body, problems

logger = logging.getLogger(__name__)


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    """Every error Courier's APIs return."""

    error: ErrorDetail


#: Every operation's error answers, by reference to one `ErrorResponse` schema: as a `model`,
#: FastAPI builds a validator per status per route when the app is made (385 for the jobs API,
#: about 70 ms of its cold start) for answers it never validates.
_ERROR_SCHEMA = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": description, "content": _ERROR_SCHEMA}
    for status, description in (
        (400, "The request cannot be taken as it is (an unknown job type, an unsafe callback URL)"),
        (401, "Missing or unknown API key"),
        (403, "The request names something that is not the caller's"),
        (404, "No such resource for this caller"),
        (409, "The resource is not in a state that allows this, or the idempotency key was used for another request"),
        (413, "Too large"),
        (415, "Unsupported media type"),
        (422, "The request is invalid"),
        (429, "Too many requests; retry after Retry-After"),
        (500, "Our fault"),
        (503, "A dependency is unavailable or not configured; retry later"),
    )
}

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


def create_app(*, title: str, description: str) -> FastAPI:
    app = FastAPI(title=title, description=description, version=__version__, responses=ERROR_RESPONSES)
    extend_openapi(app, add_error_schema)

    @app.exception_handler(CourierError)
    async def courier_error(_: Request, error: CourierError) -> JSONResponse:
        return JSONResponse(error.to_body(), status_code=error.status, headers=error.retry_after_header() or None)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse(error_body("invalid_request", _describe(error, request.headers.get("content-type", ""))), status_code=422)

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, error: HTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(error.status_code, "http_error")
        return JSONResponse(error_body(code, str(error.detail)), status_code=error.status_code, headers=error.headers)

    @app.exception_handler(RecursionError)
    async def too_deep(_: Request, error: RecursionError) -> JSONResponse:
        return JSONResponse(error_body("invalid_request", "the JSON body is nested too deeply"), status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, error: Exception) -> JSONResponse:
        logger.exception("unhandled error")
        return JSONResponse(error_body("internal_error", "internal error"), status_code=500)

    return app


def extend_openapi(app: FastAPI, extend: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """The app's OpenAPI document, built once on first request as FastAPI does, with what
    `extend` adds (the jobs API: its job types' inputs)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = extend(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def add_error_schema(document: dict[str, Any]) -> dict[str, Any]:
    """The `ErrorResponse` schema the error answers refer to, as FastAPI writes a model's."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schema = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}", mode="serialization")
    for name, found in {**schema.pop("$defs", {}), "ErrorResponse": schema}.items():
        schemas.setdefault(name, found)
    return document


def _describe(error: RequestValidationError, content_type: str) -> str:
    """A body that is not a JSON object says why: the parser's reason, or the media type it
    came with (FastAPI reads JSON only when told it is)."""
    found = error.errors()
    if len(found) == 1 and not [p for p in found[0].get("loc", ()) if p != "body"] and "json" not in content_type.lower() \
            and found[0].get("type") in ("model_attributes_type", "dict_type"):
        return "body: expected a JSON object; send it with Content-Type: application/json" + (f" (got {content_type!r})" if content_type else "")
    return problems(found, root="body", skip=("body",)) or "invalid request"


LambdaHttpHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


def lambda_handler(app: FastAPI) -> LambdaHttpHandler:
    """Mangum adapter for API Gateway HTTP API (payload 2.0) events; no lifespan on Lambda."""
    adapter = Mangum(app, lifespan="off")

    def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return dict(adapter(event, context))

    return handle
