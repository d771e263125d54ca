"""The AI router for job code: the same routing as `POST /v1/route`, in process, within
the run's deadline instead of API Gateway's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from courier.ai.request import ChatRequest
from courier.ai.router import shared_router

#: Seconds kept back from the run's deadline for storing the result.
FINISH_MARGIN_SECONDS = 20.0
MIN_DEADLINE_SECONDS = 5.0


class RouterClient:
    def __init__(self, remaining_seconds: Callable[[], float]) -> None:
        self._remaining = remaining_seconds

    def route(
        self, type: str, *, prompt: str | None = None, messages: list[dict[str, Any]] | None = None,
        images: list[str] | None = None, max_tokens: int | None = None, temperature: float | None = None,
        json: bool | None = None,
    ) -> dict[str, Any]:
        """The routed answer as `POST /v1/route` gives it (`output`, `deployment`, `usage`, `attempts`)."""
        return self.send(ChatRequest.build(type, prompt=prompt, messages=messages, images=images, max_tokens=max_tokens,
                                           temperature=temperature, json=json))

    def send(self, request: ChatRequest) -> dict[str, Any]:
        """A request already built (an `ai.route` job's, `AiRouteInput.request()`)."""
        deadline = max(MIN_DEADLINE_SECONDS, self._remaining() - FINISH_MARGIN_SECONDS)
        return shared_router().route(request, deadline_seconds=deadline).to_dict()
