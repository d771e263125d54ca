"""The router's answer as a model: what `POST /v1/route` (and an `ai.route` job's result)
holds, so the OpenAPI document and the TypeScript client type it exactly. Built from
`RouteResult.to_dict()`; fields it leaves out stay out (`exclude_unset`)."""

from __future__ import annotations

from typing import Any

from courier.views import View


class AttemptView(View):
    deployment: str
    #: ok | retried | failed | skipped
    outcome: str
    latencyMs: float
    error: str | None = None
    message: str | None = None
    httpStatus: int | None = None
    waitedMs: float | None = None


class TokenUsage(View):
    inputTokens: int
    outputTokens: int
    #: Counted by Courier (the deployment reported none).
    estimated: bool | None = None


class RouteAnswer(View):
    id: str
    type: str
    route: str
    deployment: str
    model: str
    #: The reply's text, or its JSON when the request asked for `json`.
    output: Any
    usage: TokenUsage
    costUsd: float
    latencyMs: float
    attempts: list[AttemptView]
    reasoning: str | None = None
