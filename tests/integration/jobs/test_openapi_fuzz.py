"""schemathesis against both APIs' own OpenAPI documents, with a real API key, on the
real handlers (moto, the QStash server): no 5xx, every response matches its schema, and
every error is `{"error": {"code", "message"}}`."""

from __future__ import annotations

import sys
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

from tests.integration.jobs.conftest import Stack

EXAMPLES = 30
#: ignored_auth sends no key on purpose (the auth tests cover it); positive_data_acceptance
#: expects every schema-valid body to be taken, but a job's `input` is checked against its
#: type's model after the schema (an `input` the schema allows can still be a 422).
EXCLUDED = [ignored_auth, positive_data_acceptance]


def error_shape(ctx: Any, response: Any, case: Any) -> bool:
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error"} and set(body["error"]) >= {"code", "message"}, body
        assert isinstance(body["error"]["code"], str) and isinstance(body["error"]["message"], str)
    return True


schemathesis.check(error_shape)


@pytest.mark.parametrize("function", ["jobs_api", "ai_router"])
def test_every_operation_holds_up_to_generated_requests(stack: Stack, function: str) -> None:
    app = sys.modules[f"functions.{function}.handler"].app if function == "jobs_api" else _router_app()
    # The app's own document; the requests go through the local HTTP API (gateway, Mangum, handler).
    schema = schemathesis.openapi.from_dict(app.openapi())
    auth = stack.headers()
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.startswith("/v1/hooks"):
            continue  # signed by QStash, not by API key: the signature tests cover it

        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            case.call_and_validate(base_url=stack.api_url, headers=auth, excluded_checks=EXCLUDED)

        try:
            run()
        except Exception as error:  # collect every operation's failure, then report them together
            failures.append(f"{operation.method.upper()} {operation.path}: {str(error)[:1500]}")
    assert not failures, "\n\n".join(failures)


def _router_app() -> Any:
    from tests.integration.jobs.conftest import load_handler

    load_handler("ai_router")
    return sys.modules["functions.ai_router.handler"].app
