"""The local stack gives each function the variables the deployed stack gives it, and
routes the HTTP API by the same table: drift between the two fails here."""

from __future__ import annotations

import pytest

from courier.network import LOOPBACK_SETTING
from devstack.aws_resources import LocalResources, WorkerQueues
from devstack.environment import LOCAL_AWS, DevSettings, function_environment
from devstack.supervisor import api_router
from infra.config import API_ROUTES, DEFAULT_ROUTE_FUNCTION, CourierConfig
from tests.infrastructure.test_stack import functions_by_service

#: Set only locally (the README's "local only" rows) or by Lambda itself in AWS.
LOCAL_ONLY = {*LOCAL_AWS, "AWS_ENDPOINT_URL", LOOPBACK_SETTING, "JOB_LEASE_SECONDS"}


@pytest.mark.parametrize("name", [f.name for f in CourierConfig().functions])
def test_function_environment_names_match_the_template(resources, name: str) -> None:
    deployed = set(functions_by_service(resources)[name]["Environment"]["Variables"])
    settings = DevSettings(lease_seconds=3)
    local = LocalResources("t", "b", {w.name: WorkerQueues(f"q-{w.name}", f"dlq-{w.name}") for w in settings.config.workers})
    assert set(function_environment(settings, name, local)) - LOCAL_ONLY == deployed


def test_the_local_gateway_routes_like_the_http_api() -> None:
    functions = {name: name for name in API_ROUTES}
    route = api_router(functions)  # type: ignore[arg-type]
    assert route("POST", "/v1/jobs") == ("jobs_api", "ANY /v1/jobs")
    assert route("DELETE", "/v1/jobs/job_1") == ("jobs_api", "ANY /v1/jobs/{proxy+}")
    assert route("POST", "/v1/route") == ("ai_router", "POST /v1/route")
    # No route matches: API Gateway's `$default` route, as the stack defines it.
    assert route("GET", "/v1/route") == route("GET", "/v1/nothing") == ("jobs_api", "$default")
    assert route("POST", "/v1/hooks/qstash/failure") == ("jobs_api", "POST /v1/hooks/{proxy+}")


def test_the_default_route_goes_where_the_stacks_does(resources) -> None:
    (default,) = [r for r in resources.values() if r["Type"] == "AWS::ApiGatewayV2::Route" and r["Properties"]["RouteKey"] == "$default"]
    integration = resources[default["Properties"]["Target"]["Fn::Join"][1][1]["Ref"]]
    function = resources[integration["Properties"]["IntegrationUri"]["Fn::GetAtt"][0]]
    assert function["Properties"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"] == DEFAULT_ROUTE_FUNCTION


def test_the_local_stack_registers_the_deployed_outputs(template) -> None:
    """`courier keys|doctor --stack Courier-local` read the names a deployment has."""
    from devstack.environment import stack_outputs
    from infra.config import OUTPUT_ALARM_TOPIC

    settings = DevSettings()
    local = LocalResources("t", "b", {w.name: WorkerQueues(f"q-{w.name}", f"dlq-{w.name}") for w in settings.config.workers})
    # No alarms locally: everything else, by the same names.
    assert set(stack_outputs(settings, local)) == set(template.to_json()["Outputs"]) - {OUTPUT_ALARM_TOPIC}
