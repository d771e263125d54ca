"""The public HTTP API: API Gateway HTTP API (v2) with access logs and default throttling."""

from __future__ import annotations

import json

import jsii
from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import CORS_HEADERS, CORS_METHODS, OUTPUT_API_URL, CourierConfig
from infra.constructs.lambda_function import log_retention
from infra.nag import acknowledge

#: One JSON line per request; $context variables of HTTP APIs.
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "method": "$context.httpMethod",
    "path": "$context.path",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "latencyMs": "$context.responseLatency",
    "integrationLatencyMs": "$context.integrationLatency",
    "integrationError": "$context.integrationErrorMessage",
    "userAgent": "$context.identity.userAgent",
}


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogSettings:
    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._destination = apigwv2.LogGroupLogDestination(log_group)

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigateway.AccessLogFormat:
        return apigateway.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS))


class HttpApi(Construct):
    """API Gateway HTTP API whose routes each go to one FastAPI Lambda."""

    def __init__(self, scope: Construct, construct_id: str, *, config: CourierConfig) -> None:
        super().__init__(scope, construct_id)
        self._integrations: dict[str, integrations.HttpLambdaIntegration] = {}
        self.api = apigwv2.HttpApi(
            self,
            "Api",
            api_name=f"courier-{config.stage}",
            description="Courier: jobs API and AI router",
            create_default_stage=False,
            cors_preflight=_cors(config.api_cors_origins),
        )
        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=log_retention(config.log_retention_days),
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.stage = apigwv2.HttpStage(
            self,
            "DefaultStage",
            http_api=self.api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=config.api_rate_limit, burst_limit=config.api_burst_limit
            ),
            access_log_settings=_AccessLogSettings(self.access_logs),
        )
        acknowledge(
            self.api,
            "AwsSolutions-APIG4",
            (
                "Every route authenticates in the function: an API key (Authorization: Bearer or "
                "x-api-key) checked against hashed keys in DynamoDB, bound to a tenant; QStash's "
                "failure callback is authenticated by its signature."
            ),
        )
        CfnOutput(Stack.of(self), OUTPUT_API_URL, value=self.url, description="Courier HTTP API base URL")

    @property
    def url(self) -> str:
        return self.stage.url

    def add_routes(
        self,
        function: lambda_.IFunction,
        routes: list[tuple[str, apigwv2.HttpMethod]],
        integration_id: str,
    ) -> None:
        integration = self._integration(function, integration_id)
        for path, method in routes:
            self.api.add_routes(path=path, methods=[method], integration=integration)

    def set_default_route(self, function: lambda_.IFunction, integration_id: str) -> None:
        """`$default`: every request no route matches, so it is answered in Courier's error shape."""
        apigwv2.HttpRoute(
            self.api, "DefaultRoute", http_api=self.api, route_key=apigwv2.HttpRouteKey.DEFAULT,
            integration=self._integration(function, integration_id),
        )

    def _integration(self, function: lambda_.IFunction, integration_id: str) -> integrations.HttpLambdaIntegration:
        """One integration per function, shared by all its routes."""
        if integration_id not in self._integrations:
            self._integrations[integration_id] = integrations.HttpLambdaIntegration(integration_id, function)
        return self._integrations[integration_id]


def _cors(origins: tuple[str, ...]) -> apigwv2.CorsPreflightOptions | None:
    """API Gateway answers preflights itself and adds the headers to every response."""
    if not origins:
        return None
    return apigwv2.CorsPreflightOptions(
        allow_origins=list(origins),
        allow_methods=[apigwv2.CorsHttpMethod[m] for m in CORS_METHODS],
        allow_headers=list(CORS_HEADERS),
        max_age=Duration.hours(1),
    )
