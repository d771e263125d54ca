"""Every variable CDK (and the local stack) gives a function is a field of that function's
settings model, and every field the model requires is given: one declared model each."""

from __future__ import annotations

import importlib

import pytest

from courier.settings import EnvSettings
from infra.config import CourierConfig
from tests.infrastructure.test_stack import functions_by_service

#: Read by Powertools itself, not by Courier's settings.
POWERTOOLS = {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"}


@pytest.mark.parametrize("name", [f.name for f in CourierConfig().functions])
def test_each_functions_variables_are_its_settings_models_fields(resources, name: str) -> None:
    variables = functions_by_service(resources)[name]["Environment"]["Variables"]
    handler = importlib.import_module(f"functions.{name}.handler")
    model = type(handler.settings)  # the model the handler reads its environment with
    assert issubclass(model, EnvSettings)
    assert set(variables) - POWERTOOLS <= model.variables(), sorted(set(variables) - POWERTOOLS - model.variables())
    # The model reads what it is given: rendered tokens become strings the model accepts.
    given = {k: v if isinstance(v, str) else "x" for k, v in variables.items() if not k.startswith("POWERTOOLS")}
    given = {k: ("5" if k.endswith(("_COUNT", "_SECONDS")) else v) for k, v in given.items()}
    settings = model.from_env(given)
    assert settings.model_dump(by_alias=True)["TABLE_NAME"] == "x"
