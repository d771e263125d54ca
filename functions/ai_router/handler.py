"""ai_router Lambda: the routing API (HTTP API events) and a queued worker (QStash, SQS)
for `ai.route` and the built-in job types.

The worker runtime (signature checks, batch processing) is imported on the first queued
event only: an HTTP cold start does not pay for what it never uses.
"""

from __future__ import annotations

from courier import coldstart

coldstart.begin()  # no garbage collection while the modules below load (courier/coldstart.py)

from typing import Annotated, Any

from fastapi import Depends

from courier.adapters.http_app import ErrorResponse, create_app, lambda_handler
from courier.adapters.http_auth import tenant_dependency
from courier.adapters.worker_handler import queued_worker_handler
from courier.ai.inputs import AiRouteInput
from courier.ai.router import API_DEADLINE_SECONDS, shared_router
from courier.ai.views import RouteAnswer
from courier.auth.api_keys import ApiKeyStore
from courier.observability import logger
from courier.settings import ModelWorkerSettings

settings = ModelWorkerSettings.from_env()
Tenant = Annotated[str, Depends(tenant_dependency(ApiKeyStore(settings.table_name)))]
router = shared_router()

app = create_app(
    title="Courier AI router",
    description="Routes a prompt by task type to the right model deployment, with retries and fallbacks.",
)


@app.post(
    "/v1/route",
    tags=["ai"],
    summary="Answer a prompt with the model for its task type",
    response_model=RouteAnswer,
    response_model_exclude_unset=True,
    responses={
        502: {"model": ErrorResponse, "description": "Every deployment failed; `error.attempts` lists them"},
        504: {"model": ErrorResponse, "description": "No deployment answered within the deadline"},
    },
)
def route(body: AiRouteInput, tenant_id: Tenant) -> dict[str, Any]:
    result = router.route(body.request(), deadline_seconds=API_DEADLINE_SECONDS)
    logger.info(
        "routed",
        extra={"tenant": tenant_id, "route": result.route, "deployment": result.deployment.name,
               "attempts": len(result.attempts), "latencyMs": round(result.latency_ms, 1), "costUsd": result.cost_usd},
    )
    return result.to_dict()


@app.get("/v1/models", tags=["ai"], summary="Model deployments, routes and cooldowns")
def models(tenant_id: Tenant) -> dict[str, Any]:
    return router.models()


# POST /v1/route and the ai.route / built-in jobs share this function; the worker runtime
# loads on the first queued event only, so the API's cold start never pays for it.
handler = queued_worker_handler("ai_router", settings, http=lambda_handler(app))


coldstart.end()
