"""ai_router Lambda: the routing API (HTTP API events) and a queued worker (QStash, SQS)
for `ai.route` and the built-in job types."""

from __future__ import annotations

from courier.adapters.http_app import create_app, lambda_handler
from courier.adapters.lambda_events import event_kind
from courier.adapters.worker import WorkerRuntime
from courier.errors import NotImplementedYet
from courier.jobs.builtin import register_builtins
from courier.jobs.registry import JobContext, JobRegistry, JobResult
from courier.observability import logger

app = create_app(
    title="Courier AI router",
    description="Routes a prompt by task type to the right model deployment, with fallbacks.",
)
registry = JobRegistry()
register_builtins(registry)


@app.post("/v1/route", tags=["ai"], summary="Answer a prompt with the model for its task type")
def route() -> None:
    raise NotImplementedYet("AI routing is not available in this deployment yet")


@app.get("/v1/models", tags=["ai"], summary="Model deployments and routes")
def models() -> None:
    raise NotImplementedYet("the model catalog is not available in this deployment yet")


@registry.register("ai.route")
def ai_route(context: JobContext) -> JobResult:
    raise NotImplementedYet("ai.route jobs are not available in this deployment yet")


_http = lambda_handler(app)
_worker = WorkerRuntime.from_env(registry)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict, context: object) -> dict:
    if event_kind(event) == "http_api":
        return _http(event, context)
    return _worker(event, context)
