"""How a routed request can end badly, each with its HTTP status and retry verdict.

Failures carry the attempts made, so the caller sees which deployments were tried,
how each failed and how long it took, in the error body itself.
"""

from __future__ import annotations

from typing import Any

from courier.errors import CourierError


class RoutingError(CourierError):
    def __init__(self, message: str, *, attempts: list[dict[str, Any]] | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.attempts = attempts or []

    def to_body(self) -> dict[str, Any]:
        body = super().to_body()
        body["error"]["attempts"] = self.attempts
        return body


class UpstreamRejected(RoutingError):
    """The model refused this request (content filter, a 4xx): another try cannot help."""

    status = 422
    code = "upstream_rejected"
    retryable = False


class UpstreamFailed(RoutingError):
    """Every deployment that could serve the request failed."""

    status = 502
    code = "upstream_failed"
    retryable = True


class DeadlineExceeded(RoutingError):
    """The deadline ran out before any deployment answered."""

    status = 504
    code = "deadline_exceeded"
    retryable = True


class NoDeployment(RoutingError):
    """No deployment of the route is configured (no endpoint set): a deployment's
    configuration, not a passing fault, so a job fails at once and says what to set."""

    status = 503
    code = "no_deployment"
    retryable = False
