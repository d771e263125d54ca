"""Messages and the Upstash-* request headers that configure them."""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from devstack.qstash.durations import parse_duration
from devstack.qstash.retry_delay import RetryDelay

DEFAULT_RETRIES = 3
MAX_RETRIES = 100
DEFAULT_TIMEOUT_SECONDS = 900.0
#: Settings a callback (or failure callback) takes from Upstash-(Failure-)Callback-* headers.
_CALLBACK_SETTINGS = {"retries", "timeout", "method", "delay", "retry-delay"}


class BadRequest(ValueError):
    """A publish the real QStash would refuse with 400."""


def now_ms() -> int:
    return int(time.time() * 1000)


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(18).replace('-', 'A').replace('_', 'B')}"


Headers = dict[str, list[str]]


def canonical_header(name: str) -> str:
    """Go's canonical form, as QStash shows header names: content-type -> Content-Type."""
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


@dataclass
class FlowControl:
    key: str
    parallelism: int | None = None
    rate: int | None = None
    period: float = 1.0

    @classmethod
    def parse(cls, key: str, value: str) -> FlowControl:
        control = cls(key=key)
        for part in filter(None, (p.strip() for p in value.split(","))):
            name, _, raw = part.partition("=")
            name = name.strip().lower()
            try:
                if name == "parallelism":
                    control.parallelism = int(raw)
                elif name == "rate":
                    control.rate = int(raw)
                elif name == "period":
                    control.period = parse_duration(raw)
                else:
                    raise BadRequest(f"unknown flow control setting {name!r}")
            except ValueError as error:
                raise BadRequest(f"invalid flow control value {part!r}: {error}") from None
        if control.parallelism is not None and control.parallelism < 1:
            raise BadRequest("flow control parallelism must be at least 1")
        if control.rate is not None and control.rate < 1:
            raise BadRequest("flow control rate must be at least 1")
        return control

    def view(self) -> dict[str, Any]:
        """How a message or a schedule shows its flow control: the key and its settings."""
        shown: dict[str, Any] = {"flowControlKey": self.key}
        shown.update({name: getattr(self, name) for name in ("parallelism", "rate") if getattr(self, name) is not None})
        shown["period"] = int(self.period)
        return shown


@dataclass
class Message:
    """A message waiting for delivery (or a callback of one): everything needed to deliver it."""

    id: str
    url: str
    body: bytes = b""
    method: str = "POST"
    headers: Headers = field(default_factory=dict)
    topic: str | None = None
    endpoint: str | None = None
    queue: str | None = None
    schedule_id: str | None = None
    callback: str | None = None
    failure_callback: str | None = None
    callback_headers: Headers = field(default_factory=dict)
    failure_callback_headers: Headers = field(default_factory=dict)
    max_retries: int = DEFAULT_RETRIES
    retried: int = 0
    retry_delay: str | None = None
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    not_before: int = 0
    created_at: int = 0
    next_at: int = 0
    label: str | None = None
    flow: FlowControl | None = None
    caller_ip: str | None = None
    #: "message", "callback" or "failure_callback"
    kind: str = "message"
    source_message_id: str | None = None

    def to_record(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("body")
        return data

    @classmethod
    def from_record(cls, data: Mapping[str, Any], body: bytes) -> Message:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if values.get("flow"):
            values["flow"] = FlowControl(**values["flow"])
        return cls(body=body, **values)

    def api_view(self) -> dict[str, Any]:
        """The JSON QStash returns for a message (GET /v2/messages/{id}, DLQ, events)."""
        view: dict[str, Any] = {
            "messageId": self.id,
            "url": self.url,
            "method": self.method,
            "header": self.headers,
            "maxRetries": self.max_retries,
            "notBefore": self.not_before,
            "createdAt": self.created_at,
        }
        view.update(body_fields(self.body))
        optional = {
            "topicName": self.topic,
            "endpointName": self.endpoint,
            "queueName": self.queue,
            "scheduleId": self.schedule_id,
            "callback": self.callback,
            "failureCallback": self.failure_callback,
            "callbackHeader": self.callback_headers or None,
            "failureCallbackHeader": self.failure_callback_headers or None,
            "retryDelayExpression": self.retry_delay,
            "label": self.label,
            "callerIP": self.caller_ip,
        }
        view.update({k: v for k, v in optional.items() if v is not None})
        if self.flow:
            view.update(self.flow.view())
        return view


def body_fields(body: bytes) -> dict[str, str]:
    """QStash returns `body` when it is UTF-8 and `bodyBase64` otherwise."""
    try:
        return {"body": body.decode("utf-8")}
    except UnicodeDecodeError:
        return {"bodyBase64": base64.b64encode(body).decode()}


@dataclass
class Settings:
    """What Upstash-* headers of one publish (or schedule) ask for."""

    method: str = "POST"
    headers: Headers = field(default_factory=dict)
    callback: str | None = None
    failure_callback: str | None = None
    callback_headers: Headers = field(default_factory=dict)
    failure_callback_headers: Headers = field(default_factory=dict)
    retries: int = DEFAULT_RETRIES
    retry_delay: str | None = None
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    delay: float = 0.0
    not_before: int | None = None  # unix seconds
    deduplication_id: str | None = None
    content_based_deduplication: bool = False
    label: str | None = None
    flow: FlowControl | None = None
    cron: str | None = None
    schedule_id: str | None = None
    queue: str | None = None

    @classmethod
    def from_headers(cls, items: list[tuple[str, str]]) -> Settings:
        """Parse request headers; `items` keeps repeated headers (Upstash-Forward-* may repeat)."""
        settings = cls()
        flow: dict[str, str] = {}
        for raw_name, value in items:
            name = raw_name.lower()
            try:
                if name in _FLOW_HEADERS:
                    flow[_FLOW_HEADERS[name]] = value
                elif name in _SETTING_HEADERS:
                    attribute, parse = _SETTING_HEADERS[name]
                    setattr(settings, attribute, parse(value))
                else:
                    settings._prefixed(raw_name, name, value)
            except BadRequest:
                raise
            except ValueError as error:
                raise BadRequest(f"invalid {raw_name} header: {error}") from None
        if flow.get("key"):
            settings.flow = FlowControl.parse(flow["key"], flow.get("value", ""))
        return settings

    def _prefixed(self, raw_name: str, name: str, value: str) -> None:
        """Headers that carry a header of their own: forwarded, and the callbacks' settings."""
        if name == "content-type":
            self.headers.setdefault("Content-Type", []).append(value)
        elif name.startswith("upstash-forward-"):
            self.headers.setdefault(canonical_header(raw_name[len("upstash-forward-"):]), []).append(value)
        elif name.startswith("upstash-failure-callback-"):
            _callback_header(self.failure_callback_headers, raw_name[len("upstash-failure-callback-"):], value)
        elif name.startswith("upstash-callback-"):
            _callback_header(self.callback_headers, raw_name[len("upstash-callback-"):], value)

    def to_record(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> Settings:
        values = dict(data)
        if values.get("flow"):
            values["flow"] = FlowControl(**values["flow"])
        return cls(**values)


def _callback_header(target: Headers, name: str, value: str) -> None:
    """Upstash-Callback-Forward-X and Upstash-Callback-X both forward X; a few names are settings."""
    lowered = name.lower()
    if lowered.startswith("forward-"):
        name = name[len("forward-"):]
    elif lowered in _CALLBACK_SETTINGS:
        name = "Upstash-" + name  # kept as a setting, applied when the callback is made
    target.setdefault(canonical_header(name), []).append(value)


def _retries(value: str) -> int:
    retries = int(value)
    if not 0 <= retries <= MAX_RETRIES:
        raise BadRequest(f"Upstash-Retries must be 0 to {MAX_RETRIES}")
    return retries


def _same(value: str) -> str:
    return value


#: Upstash-* header -> (Settings attribute, parser).
_SETTING_HEADERS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "upstash-failure-callback": ("failure_callback", lambda v: _url(v, "Upstash-Failure-Callback")),
    "upstash-callback": ("callback", lambda v: _url(v, "Upstash-Callback")),
    "upstash-method": ("method", lambda v: _method(v)),
    "upstash-retries": ("retries", _retries),
    "upstash-retry-delay": ("retry_delay", lambda v: RetryDelay(v).expression),
    "upstash-timeout": ("timeout", parse_duration),
    "upstash-delay": ("delay", parse_duration),
    "upstash-not-before": ("not_before", int),
    "upstash-deduplication-id": ("deduplication_id", _same),
    "upstash-content-based-deduplication": ("content_based_deduplication", lambda v: v.strip().lower() == "true"),
    "upstash-label": ("label", _same),
    "upstash-cron": ("cron", _same),
    "upstash-schedule-id": ("schedule_id", _same),
    "upstash-queue-name": ("queue", _same),
}
_FLOW_HEADERS = {"upstash-flow-control-key": "key", "upstash-flow-control-value": "value"}


def _url(value: str, header: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise BadRequest(f"{header} must be an http(s) URL")
    return value


def _method(value: str) -> str:
    method = value.strip().upper()
    if method not in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"):
        raise BadRequest(f"unsupported Upstash-Method {value!r}")
    return method


def callback_settings(headers: Headers) -> tuple[Headers, dict[str, str]]:
    """Split stored callback headers into headers to forward and settings (retries, ...)."""
    forward: Headers = {}
    options: dict[str, str] = {}
    for name, values in headers.items():
        if name.lower().startswith("upstash-") and name[len("upstash-"):].lower() in _CALLBACK_SETTINGS:
            options[name[len("upstash-"):].lower()] = values[-1]
        else:
            forward[name] = values
    return forward, options
