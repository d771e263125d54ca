"""Settings from the environment: typed, blank means unset, a bad value names its variable."""

from __future__ import annotations

import pytest

from courier.errors import Misconfigured
from courier.settings import JobsApiSettings, ModelWorkerSettings, WorkerSettings


def test_a_worker_reads_its_variables_typed() -> None:
    settings = WorkerSettings.from_env({
        "WORKER_NAME": "ai_router", "WORKER_JOB_TYPES": "ai.route, text.hash,", "WORKER_TIMEOUT_SECONDS": "300",
        "WORKER_MAX_RECEIVE_COUNT": "5", "TABLE_NAME": "t", "BUCKET_NAME": "", "UNRELATED": "x",
    })
    assert settings.job_types == ("ai.route", "text.hash") and settings.timeout_seconds == 300.0
    assert settings.bucket_name is None  # CDK writes an unset optional as ""
    assert settings.lease_seconds == 330.0  # a little over the function's timeout
    assert WorkerSettings.from_env({"WORKER_TIMEOUT_SECONDS": "10", "JOB_LEASE_SECONDS": "3"}).lease_seconds == 3.0


@pytest.mark.parametrize(
    "model, environ, variable",
    [
        (JobsApiSettings, {"DISPATCH_MODE": "carrier-pigeon"}, "DISPATCH_MODE"),
        (WorkerSettings, {"WORKER_TIMEOUT_SECONDS": "soon"}, "WORKER_TIMEOUT_SECONDS"),
        (ModelWorkerSettings, {"WORKER_MAX_RECEIVE_COUNT": "0"}, "WORKER_MAX_RECEIVE_COUNT"),
    ],
)
def test_a_bad_value_is_misconfigured_and_names_its_variable(model: type, environ: dict[str, str], variable: str) -> None:
    with pytest.raises(Misconfigured) as caught:
        model.from_env(environ)
    assert variable in caught.value.message


def test_the_api_url_loses_its_trailing_slash() -> None:
    settings = JobsApiSettings.from_env({"PUBLIC_API_URL": "https://api.example.com/", "DISPATCH_MODE": "sqs"})
    assert settings.public_api_url == "https://api.example.com" and settings.dispatch_mode == "sqs"
