"""The public HTTP API: API Gateway HTTP API (v2) with access logs and default throttling."""

from __future__ import annotations

import json

import jsii
from aws_cdk import CfnOutput, RemovalPolicy
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.nag import acknowledge

from infra.config import CourierConfig
from infra.constructs.lambda_function import log_retention

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
        self.api = apigwv2.HttpApi(
            self,
            "Api",
            api_name=f"courier-{config.stage}",
            description="Courier: jobs API and AI router",
            create_default_stage=False,
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
        CfnOutput(self, "ApiUrl", value=self.url, description="Courier HTTP API base URL")

    @property
    def url(self) -> str:
        return self.stage.url

    def add_routes(
        self,
        function: lambda_.IFunction,
        routes: list[tuple[str, apigwv2.HttpMethod]],
        integration_id: str,
    ) -> None:
        integration = integrations.HttpLambdaIntegration(integration_id, function)
        for path, method in routes:
            self.api.add_routes(path=path, methods=[method], integration=integration)
