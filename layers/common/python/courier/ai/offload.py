"""A routed model request whose every attempt is a job's durable step: `context.call`s that
QStash makes while no Lambda waits, and `context.sleep`s between retries.

The router's own rules decide (fallbacks on 429 and 5xx, refusals, cost, usage); only how an
attempt is sent and how a wait is waited change (`courier.ai.router.Via`). A run that
resumes replays the route from its start: the calls made so far answer from their records,
the next one suspends the run again. The attempts' step names follow the route's decisions
(`model:call:1`, `model:wait:1`, ...), which the recorded answers make the same every run.
"""

from __future__ import annotations

from courier.ai.router import Via
from courier.ai.transport import Reply, TransportError
from courier.jobs.steps import CallRequest, Steps


class StepAttempts:
    def __init__(self, steps: Steps, name: str) -> None:
        self.steps, self.name = steps, name
        self.calls = self.waits = 0

    def via(self) -> Via:
        return Via(self.post, self.sleep)

    def post(self, url: str, headers: dict[str, str], body: bytes, timeout: float) -> Reply:
        self.calls += 1
        request = CallRequest(url, "POST", dict(headers), body.decode(), timeout, catalogued=True)
        answer = self.steps.call(f"{self.name}:call:{self.calls}", request, max_attempts=1, on_failure="answer")
        if answer["status"] == 0:
            text = str(answer.get("body", ""))
            raise TransportError("timeout" if "timeout" in text.lower() else "connection_error", text)
        return Reply(int(answer["status"]), {k.lower(): str(v) for k, v in answer["headers"].items()}, str(answer["body"]).encode())

    def sleep(self, seconds: float) -> None:
        self.waits += 1
        self.steps.sleep_until(f"{self.name}:wait:{self.waits}", self.steps.now_ms() + int(seconds * 1000))
