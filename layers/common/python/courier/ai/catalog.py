"""The model catalog: which deployments exist, what they can do and cost, and which
serve each task type.

The default ships beside this module (`catalog.json`) and points at Azure AI Foundry
through `${AZURE_AI_FOUNDRY_ENDPOINT}`. An operator overrides it without a deploy:
`COURIER_AI_CATALOG` (inline JSON or a file path) or `COURIER_AI_CATALOG_PARAMETER`
(an SSM parameter holding JSON). An override is merged, not substituted: deployments
by name and field, routes by type, so `{"deployments": [{"name": "Phi-4", "baseUrl":
"http://127.0.0.1:11434/v1", "provider": "openai-compatible", "model": "phi4"}]}` is a
whole override. A deployment whose base URL is still empty after `${VAR}` expansion is
not configured, and routing passes it by.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from courier.ai.document import DEFAULT_CATALOG, DEFAULT_ROUTE, expand
from courier.errors import Misconfigured, problems

#: How long a catalog read from SSM is trusted before it is read again.
CATALOG_TTL_SECONDS = 300.0

Capability = Literal["text", "vision", "reasoning", "json"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class Deployment(_Model):
    name: str = Field(min_length=1, max_length=128)
    provider: Literal["azure-foundry", "openai-compatible"]
    #: Azure: the resource endpoint (`https://<resource>.services.ai.azure.com`).
    #: OpenAI-compatible: the base URL that ends before `/chat/completions` (`…/v1`).
    base_url: str = Field(alias="baseUrl")
    model: str = Field(min_length=1)
    #: Where the key is: a field of the model-keys secret, `env:NAME`, or none (local servers).
    key_secret: str | None = Field(default=None, alias="keySecret")
    capabilities: frozenset[Capability] = frozenset({"text"})
    context_window: int = Field(default=8192, alias="contextWindow", gt=0)
    price_per_1m_input: float = Field(default=0.0, alias="pricePer1MInput", ge=0)
    price_per_1m_output: float = Field(default=0.0, alias="pricePer1MOutput", ge=0)
    timeout_seconds: float = Field(default=60.0, alias="timeoutSeconds", gt=0, le=900)
    max_images_per_request: int | None = Field(default=None, alias="maxImagesPerRequest", ge=1)
    #: Azure only: the OpenAI v1 route or the model-inference route.
    api: Literal["openai-v1", "model-inference"] = "openai-v1"
    api_version: str = Field(default="2024-05-01-preview", alias="apiVersion")
    #: A job's calls to this deployment (ai.route) may be made by QStash while no Lambda
    #: waits: QStash then sees the request, the key's header included (README, "Offloaded model calls").
    offload: bool = False

    @property
    def configured(self) -> bool:
        return bool(self.base_url.strip())

    @property
    def reasoning(self) -> bool:
        return "reasoning" in self.capabilities

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return round((input_tokens * self.price_per_1m_input + output_tokens * self.price_per_1m_output) / 1_000_000, 8)

    def describe(self) -> dict[str, Any]:
        """What `GET /v1/models` shows: everything but where the key lives."""
        return {
            "name": self.name,
            "provider": self.provider,
            "model": self.model,
            "configured": self.configured,
            "capabilities": sorted(self.capabilities),
            "contextWindow": self.context_window,
            "maxImagesPerRequest": self.max_images_per_request,
            "pricePer1MInput": self.price_per_1m_input,
            "pricePer1MOutput": self.price_per_1m_output,
            "timeoutSeconds": self.timeout_seconds,
        }


class RetryPolicy(_Model):
    attempts_per_deployment: int = Field(default=3, alias="attemptsPerDeployment", ge=1, le=10)
    base_delay_seconds: float = Field(default=0.25, alias="baseDelaySeconds", ge=0)
    #: A Retry-After longer than this sends the request to the next deployment instead.
    max_delay_seconds: float = Field(default=10.0, alias="maxDelaySeconds", ge=0)
    cooldown_seconds: float = Field(default=30.0, alias="cooldownSeconds", ge=0)


class Catalog(_Model):
    deployments: dict[str, Deployment]
    routes: dict[str, tuple[str, ...]]
    retry: RetryPolicy = Field(default_factory=RetryPolicy)

    @model_validator(mode="after")
    def routes_name_deployments(self) -> Catalog:
        if DEFAULT_ROUTE not in self.routes:
            raise ValueError(f"routes must include {DEFAULT_ROUTE!r} (types without a route of their own use it)")
        for route, names in self.routes.items():
            unknown = [n for n in names if n not in self.deployments]
            if unknown or not names:
                raise ValueError(f"route {route!r} names unknown deployments {unknown}" if unknown else f"route {route!r} is empty")
        return self

    def route_for(self, task_type: str) -> tuple[str, list[Deployment]]:
        """The route serving a task type and its deployments, in the order to try them."""
        name = task_type if task_type in self.routes else DEFAULT_ROUTE
        return name, [self.deployments[n] for n in self.routes[name]]

    def configured_for(self, task_type: str) -> bool:
        return any(d.configured for d in self.route_for(task_type)[1])

    def describe(self) -> dict[str, Any]:
        return {
            "deployments": [d.describe() for d in self.deployments.values()],
            "routes": {route: list(names) for route, names in self.routes.items()},
        }


def parse_catalog(data: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> Catalog:
    """Validate a catalog document after expanding `${VAR}` / `${VAR:-default}`."""
    expanded = expand(data, os.environ if environ is None else environ)
    deployments = expanded.get("deployments", [])
    try:
        return Catalog.model_validate(
            {
                "deployments": {d.get("name"): d for d in deployments if isinstance(d, dict)},
                "routes": expanded.get("routes", {}),
                "retry": expanded.get("retry", {}),
            }
        )
    except ValidationError as error:
        raise Misconfigured(f"the model catalog is invalid: {problems(error.errors(), root='catalog')}") from None


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(override) - {"deployments", "routes", "retry"}
    if unknown:
        raise Misconfigured(f"the catalog override has unknown sections {sorted(unknown)}")
    deployments = {d["name"]: dict(d) for d in base.get("deployments", [])}
    for item in override.get("deployments", []):
        if not isinstance(item, dict) or not item.get("name"):
            raise Misconfigured("every deployment in the catalog override needs a name")
        deployments[item["name"]] = {**deployments.get(item["name"], {}), **item}
    return {
        "deployments": list(deployments.values()),
        "routes": {**base.get("routes", {}), **override.get("routes", {})},
        "retry": {**base.get("retry", {}), **override.get("retry", {})},
    }


def load_catalog(environ: Mapping[str, str] | None = None) -> Catalog:
    env = os.environ if environ is None else environ
    document = json.loads(DEFAULT_CATALOG.read_text())
    override = _override(env)
    if override is not None:
        document = merge(document, override)
    return parse_catalog(document, env)


_lock = threading.Lock()
_cache: tuple[float, Catalog] | None = None


def current_catalog() -> Catalog:
    """The catalog for this process, re-read every few minutes so an SSM edit takes hold."""
    global _cache
    with _lock:
        if _cache is None or time.monotonic() - _cache[0] > CATALOG_TTL_SECONDS:
            _cache = (time.monotonic(), load_catalog())
        return _cache[1]


def reset_catalog_cache() -> None:
    global _cache
    with _lock:
        _cache = None


def _override(env: Mapping[str, str]) -> dict[str, Any] | None:
    source, text = "", None
    if inline := env.get("COURIER_AI_CATALOG", "").strip():
        source = "COURIER_AI_CATALOG"
        text = inline if inline.startswith("{") else _read_file(inline)
    elif parameter := env.get("COURIER_AI_CATALOG_PARAMETER", "").strip():
        from courier.secrets import load_parameter

        source, text = f"SSM parameter {parameter}", load_parameter(parameter)
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise Misconfigured(f"the catalog override in {source} is not JSON: {error}") from None
    if not isinstance(value, dict):
        raise Misconfigured(f"the catalog override in {source} must be a JSON object")
    return value


def _read_file(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError as error:
        raise Misconfigured(f"cannot read the catalog override {path}: {error.strerror}") from None
