"""Routing: the task type picks a route, the route orders its deployments, and each is
tried with retries until one answers or the deadline runs out.

The order of events for one request:
- deployments that are not configured, lack a needed capability (vision, json), take
  fewer images than sent or have too small a context are passed by before any call;
- deployments cooling down after a recent failure are passed by too, unless nothing
  else is left (then the one that recovers first is tried);
- 429, 408, 409, 5xx, timeouts and connection errors are retried on the same
  deployment after Retry-After / retry-after-ms or a jittered backoff, while the wait
  fits the deadline and the policy's longest wait; then the next deployment;
- 401/403/404 mean the deployment is wrong (key, name): the next deployment, and a
  cooldown; other 4xx and content filtering end the request (422, the reason given);
- a deployment that used up its attempts cools down for this process's later requests.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from courier import observability
from courier.ai.catalog import Catalog, Deployment, current_catalog, reset_catalog_cache
from courier.ai.errors import DeadlineExceeded, NoDeployment, UpstreamFailed, UpstreamRejected
from courier.ai.keys import key_for
from courier.ai.providers import BadResponse, Completion, build_call, parse_completion, upstream_error
from courier.ai.request import ChatRequest
from courier.ai.retries import DEPLOYMENT_STATUSES, Cooldowns, backoff_seconds, is_retryable, retry_after_seconds
from courier.ai.transport import Reply, Transport, TransportError
from courier.errors import InvalidInput, Misconfigured

#: API Gateway gives up at 30 s; answering by 28 s leaves room for the response.
API_DEADLINE_SECONDS = 28.0
#: Less time than this left is not worth an attempt.
MIN_ATTEMPT_SECONDS = 0.05
CONTENT_FILTER_CODES = frozenset({"content_filter", "content_filtered", "ResponsibleAIPolicyViolation"})
#: Error codes of a 403/404 that say the request (an image it names, a file) was the
#: problem, not the deployment: the next deployment may try, but no cooldown, or one
#: tenant's bad request would take a shared deployment away from every tenant.
REQUEST_FAULT_CODES = frozenset({
    "invalid_image_url", "image_not_found", "invalid_image", "invalid_request_error", "invalid_url",
    "file_not_found", "url_not_found", "BadRequest", "InvalidRequest",
})


@dataclass
class Attempt:
    deployment: str
    outcome: str  # ok | retried | failed | skipped
    error: str | None = None
    message: str | None = None
    http_status: int | None = None
    latency_ms: float = 0.0
    waited_ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"deployment": self.deployment, "outcome": self.outcome, "latencyMs": round(self.latency_ms, 1)}
        if self.http_status is not None:
            data["httpStatus"] = self.http_status
        if self.error:
            data["error"] = self.error
        if self.message:
            data["message"] = self.message
        if self.waited_ms:
            data["waitedMs"] = round(self.waited_ms, 1)
        return data


@dataclass
class RouteResult:
    id: str
    type: str
    route: str
    deployment: Deployment
    completion: Completion
    usage: tuple[int, int, bool]
    latency_ms: float
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def output(self) -> str:
        return self.completion.output

    @property
    def cost_usd(self) -> float:
        return self.deployment.cost(self.usage[0], self.usage[1])

    def to_dict(self) -> dict[str, Any]:
        inputs, outputs, estimated = self.usage
        data: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "route": self.route,
            "deployment": self.deployment.name,
            "model": self.deployment.model,
            "output": self.completion.output,
            "usage": {"inputTokens": inputs, "outputTokens": outputs},
            "costUsd": self.cost_usd,
            "latencyMs": round(self.latency_ms, 1),
            "attempts": [a.to_dict() for a in self.attempts],
        }
        if estimated:
            data["usage"]["estimated"] = True
        if self.completion.reasoning:
            data["reasoning"] = self.completion.reasoning
        return data


@dataclass(frozen=True)
class Via:
    """How one request's attempts go out: `post(url, headers, body, timeout) -> Reply` (or
    TransportError), and `sleep(seconds)` between them."""

    post: Callable[[str, dict[str, str], bytes, float], Reply]
    sleep: Callable[[float], None]


class _NextDeployment(Exception):
    """This deployment is done for this request; the router moves on."""

    def __init__(self, cool_for: float | None) -> None:
        self.cool_for = cool_for


class Router:
    def __init__(
        self,
        catalog: Callable[[], Catalog] = current_catalog,
        *,
        transport: Transport | None = None,
        cooldowns: Cooldowns | None = None,
        keys: Callable[[Deployment], str | None] = key_for,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._catalog = catalog
        self._transport = transport or Transport()
        self.cooldowns = cooldowns or Cooldowns(clock)
        self._keys = keys
        self._clock = clock
        self._sleep = sleep

    def available(self, task_type: str) -> bool:
        """Whether any deployment could serve this task type (the video processor asks
        before captioning, so a missing model skips the analysis instead of failing)."""
        return self._catalog().configured_for(task_type)

    def models(self) -> dict[str, Any]:
        described = self._catalog().describe()
        for deployment in described["deployments"]:
            deployment["coolingDownSeconds"] = round(self.cooldowns.remaining(deployment["name"]), 1)
        return described

    def route(self, request: ChatRequest, *, deadline_seconds: float = API_DEADLINE_SECONDS, via: Via | None = None) -> RouteResult:
        """`via`: how this request's attempts are sent and waited between (a job's durable
        steps: each attempt a `context.call`, each wait a `context.sleep`); the route then
        keeps no cooldowns of this process, so a replayed run decides as the first did."""
        started = self._clock()
        deadline = started + deadline_seconds
        catalog = self._catalog()
        route_name, candidates = self._candidates(catalog, request)
        attempts: list[Attempt] = []
        cooldowns = self.cooldowns if via is None else Cooldowns(self._clock)
        for deployment in self._order(candidates, attempts, cooldowns):
            try:
                completion = self._try(deployment, request, catalog, deadline, attempts, via or self._via)
            except _NextDeployment as moving_on:
                if moving_on.cool_for:
                    cooldowns.cool(deployment.name, moving_on.cool_for)
                continue
            usage = _usage(completion, request)
            result = RouteResult(
                id=f"rt_{time.time_ns():016x}{secrets.token_hex(4)}",
                type=request.type,
                route=route_name,
                deployment=deployment,
                completion=completion,
                usage=usage,
                latency_ms=(self._clock() - started) * 1000,
                attempts=attempts,
            )
            # What the dashboard's "router spend per hour" adds up (EMF, no call made here).
            observability.amount("RouterSpendUsd", result.cost_usd, route=route_name)
            return result
        listed = [a.to_dict() for a in attempts]
        if self._clock() >= deadline - MIN_ATTEMPT_SECONDS:
            raise DeadlineExceeded(f"no deployment of route {route_name!r} answered within {deadline_seconds:.0f} s", attempts=listed)
        raise UpstreamFailed(f"every deployment of route {route_name!r} failed: {_summary(attempts)}", attempts=listed)

    def _candidates(self, catalog: Catalog, request: ChatRequest) -> tuple[str, list[Deployment]]:
        route_name, deployments = catalog.route_for(request.type)
        configured = [d for d in deployments if d.configured]
        if not configured:
            raise NoDeployment(
                f"no deployment of route {route_name!r} is configured: set AZURE_AI_FOUNDRY_ENDPOINT, or a baseUrl for "
                f"{', '.join(d.name for d in deployments) or 'a deployment'} in the AI catalog (COURIER_AI_CATALOG), "
                "then retry the job"
            )
        reasons: list[str] = []
        capable = []
        tokens = request.estimated_input_tokens()
        for d in configured:
            missing = request.required - d.capabilities
            if missing:
                reasons.append(f"{d.name} lacks {', '.join(sorted(missing))}")
            elif d.max_images_per_request is not None and len(request.images) > d.max_images_per_request:
                reasons.append(f"{d.name} takes {d.max_images_per_request} image(s) per request")
            elif tokens + (request.max_tokens or 0) > d.context_window:
                reasons.append(f"{d.name}'s context of {d.context_window} tokens is too small")
            else:
                capable.append(d)
        if not capable:
            raise InvalidInput(f"no deployment of route {route_name!r} can take this request: {'; '.join(reasons)}", code="no_capable_deployment")
        return route_name, capable

    def offloads(self, task_type: str) -> bool:
        """Whether every configured deployment of the type's route may be called by QStash."""
        _, deployments = self._catalog().route_for(task_type)
        configured = [d for d in deployments if d.configured]
        return bool(configured) and all(d.offload for d in configured)

    @property
    def _via(self) -> Via:
        return Via(self._transport.post, self._sleep)

    def _order(self, candidates: list[Deployment], attempts: list[Attempt], cooldowns: Cooldowns) -> list[Deployment]:
        ready = [d for d in candidates if cooldowns.remaining(d.name) == 0]
        if not ready:
            return [min(candidates, key=lambda d: cooldowns.remaining(d.name))]
        for d in candidates:
            if d not in ready:
                attempts.append(Attempt(d.name, "skipped", "cooling_down", f"{cooldowns.remaining(d.name):.0f} s left"))
        return ready

    def _try(self, deployment: Deployment, request: ChatRequest, catalog: Catalog, deadline: float, attempts: list[Attempt],
             via: Via) -> Completion:
        policy = catalog.retry
        try:
            call = build_call(deployment, request, self._keys(deployment))
        except Misconfigured as error:
            attempts.append(Attempt(deployment.name, "failed", "missing_key", error.message))
            raise _NextDeployment(None) from None
        waited = 0.0
        for number in range(1, policy.attempts_per_deployment + 1):
            remaining = deadline - self._clock()
            if remaining < MIN_ATTEMPT_SECONDS:
                raise _NextDeployment(None)
            attempt = Attempt(deployment.name, "failed", waited_ms=waited * 1000)
            attempts.append(attempt)
            began = self._clock()
            retry_after: float | None = None
            try:
                reply = via.post(call.url, call.headers, call.body, min(deployment.timeout_seconds, remaining))
            except TransportError as error:
                attempt.error, attempt.message = error.code, str(error)
            else:
                attempt.http_status = reply.status
                if 200 <= reply.status < 300:
                    completion = self._accept(reply.data, request, attempt, attempts)
                    attempt.latency_ms = (self._clock() - began) * 1000
                    if completion is not None:
                        return completion
                    raise _NextDeployment(None)
                self._judge_refusal(deployment, reply, attempt, attempts, policy.cooldown_seconds, began)
                retry_after = retry_after_seconds(reply.headers)
            attempt.latency_ms = (self._clock() - began) * 1000
            if number == policy.attempts_per_deployment:
                break
            wait = retry_after if retry_after is not None else backoff_seconds(number, policy.base_delay_seconds, policy.max_delay_seconds)
            if retry_after is not None and retry_after > policy.max_delay_seconds:
                raise _NextDeployment(max(policy.cooldown_seconds, retry_after))
            if self._clock() + wait + MIN_ATTEMPT_SECONDS > deadline:
                break
            attempt.outcome = "retried"
            via.sleep(wait)
            waited = wait
        raise _NextDeployment(max(policy.cooldown_seconds, retry_after or 0.0))

    def _judge_refusal(self, deployment: Deployment, reply: Reply, attempt: Attempt, attempts: list[Attempt],
                       cooldown_seconds: float, began: float) -> None:
        """A non-2xx answer: try the next deployment (its fault, or the deployment cannot take
        this request), give up (the request's fault), or return to retry this one."""
        code, message = upstream_error(reply.data)
        attempt.error, attempt.message = code or f"http_{reply.status}", message or None
        if reply.status in DEPLOYMENT_STATUSES and code not in CONTENT_FILTER_CODES:
            attempt.latency_ms = (self._clock() - began) * 1000
            deployments_fault = reply.status == 401 or code not in REQUEST_FAULT_CODES
            raise _NextDeployment(cooldown_seconds if deployments_fault else None)
        if not is_retryable(reply.status):
            attempt.latency_ms = (self._clock() - began) * 1000
            rejected_code = "content_filtered" if code in CONTENT_FILTER_CODES else "upstream_rejected"
            raise UpstreamRejected(
                f"{deployment.name} rejected the request ({reply.status}): {message or 'no reason given'}",
                code=rejected_code,
                attempts=[a.to_dict() for a in attempts],
            )

    def _accept(self, data: bytes, request: ChatRequest, attempt: Attempt, attempts: list[Attempt]) -> Completion | None:
        """A 2xx answer, or None when it is unusable here and the next deployment should try."""
        try:
            completion = parse_completion(data)
        except BadResponse as error:
            attempt.error, attempt.message = "bad_response", str(error)
            return None
        if completion.finish_reason == "content_filter":
            attempt.error = "content_filtered"
            raise UpstreamRejected(
                f"{attempt.deployment} filtered the answer (content filter)", code="content_filtered", attempts=[a.to_dict() for a in attempts]
            )
        if request.json:
            text = _strip_fence(completion.output)
            try:
                json.loads(text)
            except ValueError:
                attempt.error, attempt.message = "invalid_json", "json was asked for and the answer is not JSON"
                return None
            completion = Completion(text, completion.reasoning, completion.finish_reason, completion.input_tokens, completion.output_tokens)
        attempt.outcome = "ok"
        return completion


def _usage(completion: Completion, request: ChatRequest) -> tuple[int, int, bool]:
    """Tokens as the upstream counted them; estimated (and said so) when it did not."""
    if completion.input_tokens is not None and completion.output_tokens is not None:
        return completion.input_tokens, completion.output_tokens, False
    return (
        completion.input_tokens if completion.input_tokens is not None else request.estimated_input_tokens(),
        completion.output_tokens if completion.output_tokens is not None else len(completion.output) // 4 + 1,
        True,
    )


def _strip_fence(text: str) -> str:
    stripped = text.strip()
    if stripped.startswith("```"):
        stripped = stripped.split("\n", 1)[1] if "\n" in stripped else ""
        stripped = stripped.rsplit("```", 1)[0]
    return stripped.strip()


def _summary(attempts: list[Attempt]) -> str:
    return "; ".join(f"{a.deployment}: {a.error or a.outcome}" for a in attempts if a.outcome != "ok") or "nothing was tried"


_shared: Router | None = None


def shared_router() -> Router:
    """One router per process: its connections and cooldowns outlive an invocation."""
    global _shared
    if _shared is None:
        _shared = Router()
    return _shared


def reset_shared_router() -> None:
    """Forget this process's router, catalog, connections and cooldowns (tests do)."""
    global _shared
    _shared = None
    reset_catalog_cache()
