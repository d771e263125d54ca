"""The model catalog: the shipped default, overrides by environment, validation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from courier.ai.catalog import load_catalog, parse_catalog
from courier.ai.document import could_serve
from courier.errors import Misconfigured

ENDPOINT = {"AZURE_AI_FOUNDRY_ENDPOINT": "https://acme.services.ai.azure.com"}


def test_the_default_routes_each_task_type_to_its_model_with_fallbacks() -> None:
    catalog = load_catalog(ENDPOINT)
    assert [d.name for d in catalog.route_for("reasoning")[1]] == ["DeepSeek-R1", "DeepSeek-V3-0324"]
    assert catalog.route_for("generation")[1][0].name == "DeepSeek-V3-0324"
    assert [d.name for d in catalog.route_for("vision")[1]] == ["Phi-4-multimodal-instruct"]
    route, deployments = catalog.route_for("summarize")
    assert route == "default" and deployments[0].name == "Phi-4" and len(deployments) > 1
    assert all(d.provider == "azure-foundry" and d.base_url == ENDPOINT["AZURE_AI_FOUNDRY_ENDPOINT"] for d in catalog.deployments.values())
    r1 = catalog.deployments["DeepSeek-R1"]
    assert r1.reasoning and "vision" not in r1.capabilities
    assert catalog.deployments["Phi-4-multimodal-instruct"].max_images_per_request == 1


def test_without_an_endpoint_nothing_is_configured() -> None:
    catalog = load_catalog({})
    assert not any(d.configured for d in catalog.deployments.values())
    assert not catalog.configured_for("vision")
    assert load_catalog(ENDPOINT).configured_for("vision")


@pytest.mark.parametrize("env", [{}, ENDPOINT, {"AZURE_AI_FOUNDRY_ENDPOINT": " "},
                                 {"COURIER_AI_CATALOG": json.dumps({"deployments": [{"name": "Phi-4-multimodal-instruct", "baseUrl": "http://127.0.0.1:1/v1"}]})}])
@pytest.mark.parametrize("task_type", ["vision", "reasoning", "summarize"])
def test_the_cheap_check_never_says_no_where_the_catalog_says_yes(env: dict[str, str], task_type: str) -> None:
    """`could_serve` (no pydantic: the video CLI asks it before loading the router) is False
    only where the validated catalog has no configured deployment for the type."""
    configured = load_catalog(env).configured_for(task_type)
    assert could_serve(task_type, env) is (configured or "COURIER_AI_CATALOG" in env)


def test_an_override_merges_by_deployment_field_and_route() -> None:
    override = {
        "deployments": [
            {"name": "Phi-4", "provider": "openai-compatible", "baseUrl": "http://127.0.0.1:11434/v1", "model": "phi4", "keySecret": None},
            {"name": "llava", "provider": "openai-compatible", "baseUrl": "${OLLAMA_URL:-http://127.0.0.1:11434/v1}",
             "model": "llava", "capabilities": ["text", "vision"]},
        ],
        "routes": {"vision": ["llava", "Phi-4-multimodal-instruct"]},
        "retry": {"attemptsPerDeployment": 2},
    }
    catalog = load_catalog({"COURIER_AI_CATALOG": json.dumps(override)})
    phi = catalog.deployments["Phi-4"]
    assert (phi.provider, phi.base_url, phi.model, phi.key_secret) == ("openai-compatible", "http://127.0.0.1:11434/v1", "phi4", None)
    assert phi.price_per_1m_input == 0.125 and phi.context_window == 16384  # kept from the default
    assert catalog.deployments["llava"].base_url == "http://127.0.0.1:11434/v1"
    assert [d.name for d in catalog.route_for("vision")[1]] == ["llava", "Phi-4-multimodal-instruct"]
    assert catalog.route_for("reasoning")[1][0].name == "DeepSeek-R1"
    assert catalog.retry.attempts_per_deployment == 2 and catalog.retry.cooldown_seconds == 30


def test_an_override_can_be_a_file(tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps({"routes": {"default": ["DeepSeek-V3-0324"]}}))
    assert [d.name for d in load_catalog({"COURIER_AI_CATALOG": str(path)}).route_for("x")[1]] == ["DeepSeek-V3-0324"]


@pytest.mark.parametrize(
    "override, message",
    [
        ("{not json", "not JSON"),
        ('{"routes": {"vision": ["Nope"]}}', "unknown deployments ['Nope']"),
        ('{"deployments": [{"baseUrl": "x"}]}', "needs a name"),
        ('{"models": []}', "unknown sections"),
        ('{"deployments": [{"name": "Phi-4", "provider": "bedrock"}]}', "provider"),
        ('{"deployments": [{"name": "Phi-4", "pricePer1MInput": -1}]}', "pricePer1MInput"),
        ("/nonexistent/catalog.json", "cannot read"),
    ],
)
def test_a_bad_override_is_a_clear_misconfiguration(override: str, message: str) -> None:
    with pytest.raises(Misconfigured, match="catalog") as error:
        load_catalog({"COURIER_AI_CATALOG": override})
    assert message in error.value.message


def test_a_catalog_needs_a_default_route() -> None:
    with pytest.raises(Misconfigured, match="'default'"):
        parse_catalog({"deployments": [{"name": "a", "provider": "openai-compatible", "baseUrl": "http://x", "model": "m"}],
                       "routes": {"vision": ["a"]}})


def test_cost_is_tokens_times_price_per_million() -> None:
    d = load_catalog(ENDPOINT).deployments["DeepSeek-R1"]  # 1.35 in, 5.40 out per 1M
    assert d.cost(1_000_000, 0) == 1.35
    assert d.cost(1234, 567) == round((1234 * 1.35 + 567 * 5.4) / 1e6, 8) == 0.0047277


def test_models_listing_never_shows_where_keys_live() -> None:
    described = json.dumps(load_catalog(ENDPOINT).describe())
    assert "keySecret" not in described and "azure-foundry\"" in described and "acme.services" not in described
