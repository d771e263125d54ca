"""A Courier Lambda function: arm64, own role, own log group, shared layers, Powertools env."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, RemovalPolicy, Size
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.assets import CODE_EXCLUDES, function_dir
from infra.config import LAMBDA_PYTHON_VERSION
from infra.constructs.layers import ARCHITECTURE, RUNTIME
from infra.environment import runtime_environment
from infra.nag import acknowledge


class CourierFunction(Construct):
    """One function from `functions/<name>/handler.py`, bundled without Docker.

    Each function gets its own role with only its log group attached (no managed
    AWSLambdaBasicExecutionRole), so every other permission is a named grant.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        stage: str,
        layers: list[lambda_.ILayerVersion],
        memory_mb: int,
        timeout: Duration,
        log_retention_days: int,
        environment: Mapping[str, str] | None = None,
        ephemeral_storage_mb: int = 512,
        reserved_concurrency: int | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=log_retention(log_retention_days),
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Courier {stage} {name} function",
        )
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler="handler.handler",
            code=lambda_.Code.from_asset(str(function_dir(name)), exclude=code_excludes(name)),
            layers=layers,
            memory_size=memory_mb,
            timeout=timeout,
            ephemeral_storage_size=Size.mebibytes(ephemeral_storage_mb),
            role=self.role,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            recursive_loop=lambda_.RecursiveLoop.TERMINATE,
            reserved_concurrent_executions=reserved_concurrency,
            description=f"Courier {name} ({stage})",
            environment={**runtime_environment(name, stage), **(environment or {})},
        )
        self.log_group.grant_write(self.role)
        acknowledge(
            self.function, "Serverless::Serverless-LambdaDLQ",
            "Invoked synchronously only (API Gateway, Function URL, SQS event source): an async DLQ never "
            "receives anything; failed jobs go to the queue's DLQ and QStash's DLQ.",
        )
        for rule in ("AwsSolutions::AwsSolutions-L1", "Serverless::Serverless-LambdaLatestVersion"):
            acknowledge(
                self.function, rule,
                f"Python {LAMBDA_PYTHON_VERSION} on purpose: `make test` runs the library's tests on the version "
                "that deploys, and 3.13 is the one a fresh Debian machine installs reliably (Debian 13's own "
                "build); Lambda supports it until 2029. Moving to 3.14 is LAMBDA_PYTHON_VERSION and `make lock`.",
            )
        acknowledge(
            self.function, "Serverless::Serverless-LambdaTracing",
            "X-Ray is off by default: it needs a Resource '*' grant and bills per trace; every log line and "
            "EMF metric carries the job id and type instead.",
        )

    def add_environment(self, key: str, value: str) -> None:
        self.function.add_environment(key, value)


def code_excludes(name: str) -> list[str]:
    """A worker folder of your own ships only its handler as the function's code: the rest
    of the folder is in the workers layer, as `functions.<name>`, for every function."""
    if (function_dir(name) / "worker.py").exists():
        return ["*", "!handler.py"]
    return list(CODE_EXCLUDES)


_RETENTION = {
    1: "ONE_DAY", 3: "THREE_DAYS", 5: "FIVE_DAYS", 7: "ONE_WEEK", 14: "TWO_WEEKS", 30: "ONE_MONTH",
    60: "TWO_MONTHS", 90: "THREE_MONTHS", 180: "SIX_MONTHS", 365: "ONE_YEAR", 731: "TWO_YEARS",
}


def log_retention(days: int) -> logs.RetentionDays:
    try:
        retention: logs.RetentionDays = getattr(logs.RetentionDays, _RETENTION[days])
        return retention
    except KeyError:
        raise ValueError(f"logRetentionDays must be one of {sorted(_RETENTION)}, not {days}") from None
