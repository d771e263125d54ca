"""The wire: how a request is put to each kind of deployment, and how its answer is read.

Azure AI Foundry serves the same chat-completions body on two routes (the OpenAI v1
route, and the model-inference route with an api-version) and takes its key in
`api-key`; an OpenAI-compatible server (Ollama, vLLM, llama.cpp) takes a bearer token
at `{baseUrl}/chat/completions`. Reasoning models get no sampling parameters, and
their reasoning comes back apart from the answer however it arrives.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from courier.ai.catalog import Deployment
from courier.ai.request import ChatRequest, text_of

_THINK = re.compile(r"<think>(.*?)</think>", re.S)
_AZURE_SUFFIXES = ("/openai/v1", "/models")


@dataclass(frozen=True)
class HttpCall:
    url: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Completion:
    output: str
    reasoning: str | None
    finish_reason: str | None
    input_tokens: int | None
    output_tokens: int | None


class BadResponse(Exception):
    """A 2xx whose body is not a chat completion."""


def build_call(deployment: Deployment, request: ChatRequest, key: str | None) -> HttpCall:
    headers = {"content-type": "application/json", "accept": "application/json"}
    base = deployment.base_url.rstrip("/")
    if deployment.provider == "azure-foundry":
        for suffix in _AZURE_SUFFIXES:
            base = base.removesuffix(suffix)
        if deployment.api == "openai-v1":
            url = f"{base}/openai/v1/chat/completions"
        else:
            url = f"{base}/models/chat/completions?api-version={deployment.api_version}"
        if key:
            headers["api-key"] = key
    else:
        url = f"{base}/chat/completions"
        if key:
            headers["authorization"] = f"Bearer {key}"
    return HttpCall(url, headers, json.dumps(chat_body(deployment, request), separators=(",", ":")).encode())


def chat_body(deployment: Deployment, request: ChatRequest) -> dict[str, Any]:
    body: dict[str, Any] = {"model": deployment.model, "messages": _with_images(request)}
    if request.max_tokens is not None:
        body["max_tokens"] = request.max_tokens
    if request.temperature is not None and not deployment.reasoning:
        body["temperature"] = request.temperature
    if request.json:
        body["response_format"] = {"type": "json_object"}
    return body


def parse_completion(data: bytes) -> Completion:
    try:
        document = json.loads(data)
        choice = document["choices"][0]
        message = choice.get("message") or {}
        content = message.get("content") or ""
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        raise BadResponse("the upstream answered 2xx with something that is not a chat completion") from None
    content = text_of(content, "")
    output, reasoning = split_reasoning(content, message.get("reasoning_content") or message.get("reasoning"))
    usage = document.get("usage") or {}
    return Completion(output, reasoning, choice.get("finish_reason"), usage.get("prompt_tokens"), usage.get("completion_tokens"))


def split_reasoning(content: str, reasoning: str | None) -> tuple[str, str | None]:
    """The answer and the reasoning, from a separate field or `<think>…</think>`.

    Some servers strip the opening tag and send only `…</think>answer`; that is read the
    same way.
    """
    if reasoning:
        return _THINK.sub("", content).strip(), reasoning.strip()
    match = _THINK.search(content)
    if match:
        return (content[: match.start()] + content[match.end() :]).strip(), match.group(1).strip() or None
    if "</think>" in content:
        before, _, after = content.partition("</think>")
        return after.strip(), before.strip() or None
    return content, None


def upstream_error(data: bytes) -> tuple[str | None, str]:
    """The upstream's error code (Azure's `content_filter` included) and message."""
    try:
        error = json.loads(data).get("error")
    except (ValueError, AttributeError):
        error = None
    if isinstance(error, dict):
        nested = error.get("innererror")
        inner: dict[str, Any] = nested if isinstance(nested, dict) else {}
        code = error.get("code") or inner.get("code")
        return (str(code) if code else None), str(error.get("message") or "")[:500]
    if isinstance(error, str):
        return None, error[:500]
    return None, data[:200].decode("utf-8", "replace")


def _with_images(request: ChatRequest) -> list[dict[str, Any]]:
    messages = [dict(m) for m in request.messages]
    if not request.images:
        return messages
    last_user = max(i for i, m in enumerate(messages) if m["role"] == "user") if any(m["role"] == "user" for m in messages) else None
    if last_user is None:
        messages.append({"role": "user", "content": []})
        last_user = len(messages) - 1
    content = messages[last_user]["content"]
    parts = [{"type": "text", "text": content}] if isinstance(content, str) else list(content)
    parts += [{"type": "image_url", "image_url": {"url": image}} for image in request.images]
    messages[last_user] = {**messages[last_user], "content": parts}
    return messages
