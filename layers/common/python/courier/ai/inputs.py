"""What ai.route accepts: the router's request, checked at enqueue with the router's own rules."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from pydantic import Field, model_validator

from courier.jobs.inputs import JobInput

if TYPE_CHECKING:
    from courier.ai.request import ChatRequest


class AiRouteInput(JobInput):
    type: str = Field(min_length=1, max_length=64)
    prompt: str | None = None
    messages: list[dict[str, Any]] | None = None
    images: list[str] | None = None
    max_tokens: int | None = Field(default=None, alias="maxTokens", ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    json_output: bool | None = Field(default=None, alias="json")

    @model_validator(mode="after")
    def prompt_or_messages(self) -> Self:
        if (self.prompt is None) == (self.messages is None):
            raise ValueError("give exactly one of prompt or messages")
        return self

    def check(self) -> None:
        """The router's own checks (parts, images, sizes) with its error codes, at enqueue
        rather than at run, where they would only fail the job."""
        self.request()

    def request(self) -> ChatRequest:
        """The router's request, the one shape every door in builds (API, job, library)."""
        from courier.ai.request import ChatRequest

        return ChatRequest.build(
            self.type, prompt=self.prompt, messages=self.messages, images=self.images,
            max_tokens=self.max_tokens, temperature=self.temperature, json=self.json_output,
        )
