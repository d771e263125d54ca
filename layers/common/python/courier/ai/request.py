"""What the router is asked: messages in the OpenAI chat shape, images, and limits.

One type for the three doors in (the HTTP API, the `ai.route` job, the in-process
library call), so they route identically.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any

from courier.errors import InvalidInput
from courier.network import NetworkPolicy

_DATA_URL = re.compile(r"data:image/(?:png|jpeg|jpg|webp|gif);base64,")
_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]+")
MAX_IMAGE_URL_CHARS = 20 * 1024 * 1024
_ROLES = {"system", "user", "assistant", "developer"}
#: Bounds on what one request may carry (the largest model context is about 128k tokens,
#: some 512k characters; an ai.route job's input is stored with the job).
MAX_PROMPT_CHARS = 512 * 1024
MAX_MESSAGES = 256


@dataclass(frozen=True)
class ChatRequest:
    type: str
    messages: tuple[dict[str, Any], ...]
    images: tuple[str, ...] = ()
    max_tokens: int | None = None
    temperature: float | None = None
    json: bool = False

    @classmethod
    def build(
        cls,
        type: str,
        *,
        prompt: str | None = None,
        messages: list[dict[str, Any]] | None = None,
        images: list[str] | tuple[str, ...] | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        json: bool | None = None,
    ) -> ChatRequest:
        if (prompt is None) == (messages is None):
            raise InvalidInput("give exactly one of prompt or messages")
        if prompt is not None and (not isinstance(prompt, str) or len(prompt) > MAX_PROMPT_CHARS):
            raise InvalidInput(f"prompt must be a string of at most {MAX_PROMPT_CHARS} characters", code="prompt_too_large")
        chat = [{"role": "user", "content": prompt}] if prompt is not None else _checked_messages(messages or [])
        for image in images or ():
            _check_image(image)
        return cls(type, tuple(chat), tuple(images or ()), max_tokens, temperature, bool(json))

    @property
    def required(self) -> frozenset[str]:
        needs = {"text"}
        if self.images:
            needs.add("vision")
        if self.json:
            needs.add("json")
        return frozenset(needs)

    def estimated_input_tokens(self) -> int:
        """About four characters a token, plus what the images cost: enough to tell a 16k
        window from a 128k one, not a bill."""
        chars = sum(len(text_of(m.get("content"))) for m in self.messages)
        return chars // 4 + 1000 * len(self.images)


def image_data_url(data: bytes, mime: str = "image/jpeg") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _checked_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not messages:
        raise InvalidInput("messages must not be empty")
    if len(messages) > MAX_MESSAGES:
        raise InvalidInput(f"at most {MAX_MESSAGES} messages", code="too_many_messages")
    for n, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in _ROLES:
            raise InvalidInput(f"messages[{n}] needs a role of {sorted(_ROLES)}")
        content = message.get("content")
        if isinstance(content, list):
            for i, part in enumerate(content):
                _check_part(part, f"messages[{n}].content[{i}]")
        elif not isinstance(content, str):
            raise InvalidInput(f"messages[{n}].content must be a string or a list of parts")
    if sum(len(text_of(m["content"])) for m in messages) > MAX_PROMPT_CHARS:
        raise InvalidInput(f"the messages hold more than {MAX_PROMPT_CHARS} characters of text", code="prompt_too_large")
    return [dict(m) for m in messages]


def _check_part(part: Any, where: str) -> None:
    """OpenAI's content parts: {"type": "text", "text": str} or {"type": "image_url", "image_url": {"url"}}."""
    if not isinstance(part, dict):
        raise InvalidInput(f"{where} must be an object")
    kind = part.get("type")
    if kind == "text":
        if not isinstance(part.get("text"), str):
            raise InvalidInput(f"{where}.text must be a string")
    elif kind == "image_url":
        image = part.get("image_url")
        url = image.get("url") if isinstance(image, dict) else None
        if not isinstance(url, str):
            raise InvalidInput(f"{where}.image_url.url must be a string", code="invalid_image")
        _check_image(url)
    else:
        raise InvalidInput(f"{where}.type must be text or image_url")


def _check_image(image: str) -> None:
    if not isinstance(image, str) or len(image) > MAX_IMAGE_URL_CHARS:
        raise InvalidInput("an image must be a data URL or https URL of at most 20 MB", code="invalid_image")
    if image.startswith("https://"):
        # The model's provider fetches it: no private or internal target, however spelled.
        try:
            NetworkPolicy().check_static(image, "image URL")
        except InvalidInput as error:
            raise InvalidInput(error.message, code="invalid_image") from None
        return
    prefix = _DATA_URL.match(image)
    if prefix is None or not _BASE64.fullmatch(image, prefix.end()):
        raise InvalidInput("images must be data:image/(png|jpeg|webp|gif);base64,… or https:// URLs", code="invalid_image")


def text_of(content: Any, separator: str = " ") -> str:
    """The text of a message's content: a string, or its parts' `text` strings joined; a
    `text` that is not a string (a number, null, a list) carries none."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return separator.join(
            p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)
        )
    return ""
