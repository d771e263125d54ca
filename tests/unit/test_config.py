"""Stage configuration from CDK context."""

from __future__ import annotations

import pytest

from courier.jobs.catalog import SHIPPED_WORKER_FOLDERS, worker_folders
from infra.config import MAX_RECEIVE_COUNT, CourierConfig
from infra.layer_sources import FUNCTIONS_DIR


def context(values: dict):
    return values.get


def test_defaults() -> None:
    config = CourierConfig.from_context(context({}))
    assert config.stage == "dev"
    assert config.qstash_secret == "courier/dev/qstash"
    assert config.worker("video_processor").memory_mb >= 2048
    assert config.worker("video_processor").visibility_timeout_seconds == 6 * 900
    assert MAX_RECEIVE_COUNT == 5
    # The shipped functions in their order; any worker folder a team adds is there besides.
    shipped = ["jobs_api", "video_processor", "ai_router", "web_digest"]
    names = [f.name for f in config.functions]
    assert [n for n in names if n in shipped] == shipped
    assert set(names) - set(shipped) == set(worker_folders(FUNCTIONS_DIR)) - set(SHIPPED_WORKER_FOLDERS)


def test_stage_names_secrets_and_context_overrides() -> None:
    config = CourierConfig.from_context(
        context(
            {
                "stage": "prod",
                "alarmEmail": "ops@example.com",
                "corsOrigins": "https://app.example.com, https://admin.example.com",
                "retainData": "false",
                "apiRateLimit": "200",
                "modelKeysSecret": "ssm:/courier/prod/models",
            }
        )
    )
    assert config.qstash_secret == "courier/prod/qstash"
    assert config.model_keys_secret == "ssm:/courier/prod/models"
    assert config.alarm_email == "ops@example.com"
    assert config.cors_origins == ("https://app.example.com", "https://admin.example.com")
    assert config.retain_data is False and config.api_rate_limit == 200
    assert config.worker_url_parameter("ai_router") == "/courier/prod/workers/ai_router/url"


def test_invalid_dispatch_mode_refused() -> None:
    with pytest.raises(ValueError, match="dispatchMode"):
        CourierConfig.from_context(context({"dispatchMode": "carrier-pigeon"}))


def test_unknown_worker() -> None:
    with pytest.raises(KeyError):
        CourierConfig().worker("nope")
