"""The AI router for job code: the same routing as `POST /v1/route`, in process, within
the run's deadline instead of API Gateway's.

Job code (and the CLI's video command) asks models through this one client, so a job's
deadline bounds every call it makes, whichever part of the job makes it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from courier.ai.request import ChatRequest
from courier.ai.router import Router, shared_router
from courier.jobs.steps import Steps

#: An offloaded request's attempts are bounded by their deployments' timeouts, not the run's.
OFFLOADED_DEADLINE_SECONDS = 7 * 86400.0
#: Seconds kept back from the run's deadline for storing the result.
FINISH_MARGIN_SECONDS = 20.0
MIN_DEADLINE_SECONDS = 5.0


class RouterClient:
    def __init__(self, remaining_seconds: Callable[[], float] = lambda: float("inf"), router: Router | None = None) -> None:
        self._remaining = remaining_seconds
        self._router = router

    @property
    def _routing(self) -> Router:
        return self._router or shared_router()

    def available(self, type: str) -> bool:
        """Whether any deployment could serve this task type (ask before optional work)."""
        return self._routing.available(type)

    def route(
        self, type: str, *, prompt: str | None = None, messages: list[dict[str, Any]] | None = None,
        images: list[str] | None = None, max_tokens: int | None = None, temperature: float | None = None,
        json: bool | None = None,
    ) -> dict[str, Any]:
        """The routed answer as `POST /v1/route` gives it (`output`, `deployment`, `usage`, `attempts`)."""
        return self.send(ChatRequest.build(type, prompt=prompt, messages=messages, images=images, max_tokens=max_tokens,
                                           temperature=temperature, json=json))

    def offloads(self, type: str) -> bool:
        """Whether this type's requests may go by QStash (every deployment of its route says `offload`)."""
        return self._routing.offloads(type)

    def send_by_steps(self, request: ChatRequest, steps: Steps, *, name: str = "model") -> dict[str, Any]:
        """The request routed with each attempt a durable step of the job (courier.ai.offload):
        the Lambda does not wait for the model."""
        from courier.ai.offload import StepAttempts

        via = StepAttempts(steps, name).via()
        return self._routing.route(request, deadline_seconds=OFFLOADED_DEADLINE_SECONDS, via=via).to_dict()

    def send(self, request: ChatRequest, *, deadline_seconds: float | None = None) -> dict[str, Any]:
        """A request already built (an `ai.route` job's, `AiRouteInput.request()`), within
        `deadline_seconds` when given and always within the run's."""
        deadline = max(MIN_DEADLINE_SECONDS, self._remaining() - FINISH_MARGIN_SECONDS)
        if deadline_seconds is not None:
            deadline = min(deadline, deadline_seconds)
        return self._routing.route(request, deadline_seconds=deadline).to_dict()
