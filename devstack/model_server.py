"""A fake OpenAI-compatible (and Azure AI Foundry-shaped) model server on loopback.

Tests and the router benchmark need an upstream that answers like a model deployment,
with a fixed latency and failures on demand, and that records what it was sent. It
serves `/v1/chat/completions`, `/openai/v1/chat/completions` and
`/models/chat/completions`, answers deterministically from the request (so a test can
tell which deployment answered), and replays scripted replies per model name first.

`python -m devstack.model_server --port 9100 --latency-ms 20` runs it alone (the
benchmark does, so the router under test has the CPU to itself).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

PATHS = ("/v1/chat/completions", "/openai/v1/chat/completions", "/models/chat/completions")


@dataclass
class Step:
    """One scripted reply: a status, headers and body, after an optional extra delay."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    content: str | None = None
    reasoning_content: str | None = None
    finish_reason: str = "stop"


@dataclass
class Received:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: dict[str, Any]
    at: float


class ModelServer:
    def __init__(
        self, *, host: str = "127.0.0.1", port: int = 0, latency: float = 0.0, api_key: str | None = None, failing: tuple[str, ...] = ()
    ) -> None:
        self.host, self.port, self.latency, self.api_key = host, port, latency, api_key
        #: Models that always answer 503 (the benchmark's fallback scenario).
        self.failing = set(failing)
        self.received: list[Received] = []
        self._scripts: dict[str, deque[Step]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def script(self, model: str, *steps: Step) -> None:
        with self._lock:
            self._scripts[model].extend(steps)

    def reset(self) -> None:
        with self._lock:
            self._scripts.clear()
            self.received.clear()

    def calls(self, model: str | None = None) -> list[Received]:
        with self._lock:
            return [r for r in self.received if model is None or r.body.get("model") == model]

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        for path in PATHS:
            app.router.add_post(path, self._chat)
        return app

    async def _chat(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "invalid_request", "body is not JSON")
        with self._lock:
            self.received.append(Received(request.path, dict(request.query), dict(request.headers), body, time.time()))
            scripted = self._scripts[body.get("model", "")]
            step = scripted.popleft() if scripted else Step(503) if body.get("model") in self.failing else Step()
        if self.api_key is not None and self.api_key not in (
            request.headers.get("api-key"), request.headers.get("authorization", "").removeprefix("Bearer ")
        ):
            return _error(401, "unauthorized", "wrong or missing key")
        if self.latency or step.delay:
            await asyncio.sleep(self.latency + step.delay)
        if step.status != 200 or step.body is not None:
            payload = step.body if step.body is not None else {"error": {"code": f"http_{step.status}", "message": "scripted failure"}}
            text = payload if isinstance(payload, str) else json.dumps(payload)
            return web.Response(status=step.status, text=text, headers=step.headers, content_type="application/json")
        return web.json_response(answer(body, step), headers=step.headers)

    # In-process use: a thread with its own event loop.
    def start(self) -> ModelServer:
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._runner = web.AppRunner(self.app(), access_log=None)
            self._loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, self.host, self.port)
            self._loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="model-server", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the model server did not start")
        return self

    def stop(self) -> None:
        if self._loop is None or self._runner is None:
            return
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread:
            self._thread.join(10)

    def __enter__(self) -> ModelServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def answer(body: dict[str, Any], step: Step) -> dict[str, Any]:
    """A deterministic chat completion: names the model and echoes the last user text."""
    model = body.get("model", "")
    prompt, images = _last_user(body.get("messages", []))
    if step.content is not None:
        content = step.content
    elif (body.get("response_format") or {}).get("type") == "json_object":
        content = json.dumps({"model": model, "echo": prompt[:200], "images": images})
    else:
        content = f"[{model}] {prompt[:200]}" + (f" (saw {images} image{'s' * (images != 1)})" if images else "")
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if step.reasoning_content is not None:
        message["reasoning_content"] = step.reasoning_content
    characters = sum(len(json.dumps(m.get("content", ""))) for m in body.get("messages", []))
    return {
        "id": f"chatcmpl-{time.time_ns():x}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": step.finish_reason}],
        "usage": {"prompt_tokens": characters // 4 + 1, "completion_tokens": len(content) // 4 + 1, "total_tokens": 0},
    }


def _last_user(messages: list[dict[str, Any]]) -> tuple[str, int]:
    for message in reversed(messages):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content, 0
        parts = content or []
        text = " ".join(p.get("text", "") for p in parts if p.get("type") == "text")
        return text, sum(1 for p in parts if p.get("type") == "image_url")
    return "", 0


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--fail-model", action="append", default=[], help="a model that always answers 503")
    args = parser.parse_args()
    server = ModelServer(host=args.host, port=args.port, latency=args.latency_ms / 1000, failing=tuple(args.fail_model))
    web.run_app(server.app(), host=args.host, port=args.port, access_log=None, print=lambda *_: None)


if __name__ == "__main__":
    main()
