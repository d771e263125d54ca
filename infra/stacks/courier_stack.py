"""Courier in one stack: HTTP API, the jobs API, queued workers, storage, secrets, alarms."""

from __future__ import annotations

from typing import Any

from aws_cdk import Annotations, Duration, Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from infra.config import (
    API_ROUTES,
    DEFAULT_ROUTE_FUNCTION,
    INPUTS_PREFIX,
    RESULTS_PREFIX,
    UPLOADS_PREFIX,
    CourierConfig,
    pascal_name,
    stack_name,
)
from infra.constructs.alarms import AlarmTopic
from infra.constructs.dashboard import Dashboard
from infra.constructs.http_api import HttpApi
from infra.constructs.lambda_function import CourierFunction
from infra.constructs.layers import SharedLayers
from infra.constructs.queued_worker import QueuedWorker
from infra.constructs.sealing_key import SealingKey
from infra.constructs.secrets import SecretReference
from infra.constructs.storage import Storage
from infra.environment import api_environment, job_type_routes, model_environment, shared_environment, worker_dispatch_environment


class CourierStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: CourierConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        self.storage = Storage(self, "Storage", config=config)
        self.alarms = AlarmTopic(self, "Alarms", email=config.alarm_email)
        self.layers = SharedLayers(self, "Layers")
        qstash_secret = SecretReference(self, "QStashSecret", reference=config.qstash_secret, kms_key_arn=config.secrets_kms_key_arn)
        model_keys = SecretReference(self, "ModelKeysSecret", reference=config.model_keys_secret, kms_key_arn=config.secrets_kms_key_arn)
        self.api = HttpApi(self, "Http", config=config)

        common_env = shared_environment(
            table=self.storage.table.table_name,
            bucket=self.storage.bucket.bucket_name,
            qstash_url=config.qstash_url,
            qstash_secret_ref=qstash_secret.runtime_reference,
        )
        model_env = model_environment(config, model_keys.runtime_reference)
        catalog_parameter = None
        if config.ai_catalog_parameter:
            catalog_parameter = ssm.StringParameter.from_string_parameter_name(self, "AiCatalogParameter", config.ai_catalog_parameter)

        self.workers: dict[str, QueuedWorker] = {}
        for spec in config.workers:
            env = {**common_env, **worker_dispatch_environment(config, public_api_url=self.api.url)}
            if spec.calls_models:
                env.update(model_env)
            worker = QueuedWorker(
                self,
                pascal_name(spec.name),
                spec=spec,
                config=config,
                layers=self.layers.for_function(spec.layers),
                alarms=self.alarms,
                environment=env,
            )
            self.storage.grant_table(worker.handler.role)
            self.storage.grant_objects(worker.handler.role, UPLOADS_PREFIX, ["s3:GetObject"])
            # Without ListBucket S3 answers a missing key with 403, not 404 (video_not_found).
            self.storage.grant_listing(worker.handler.role, UPLOADS_PREFIX)
            self.storage.grant_objects(worker.handler.role, RESULTS_PREFIX, ["s3:GetObject", "s3:PutObject"])
            self.storage.grant_objects(worker.handler.role, INPUTS_PREFIX, ["s3:GetObject"])
            qstash_secret.grant_read(worker.function)
            worker.function.add_to_role_policy(iam.PolicyStatement(
                actions=["ssm:GetParameter"],
                # By name: the parameter holds every worker's URL, each URL depends on its function.
                resources=[self.format_arn(service="ssm", resource="parameter", resource_name=config.job_routes_parameter.lstrip("/"))],
            ))
            if spec.calls_models:
                model_keys.grant_read(worker.function)
                if catalog_parameter is not None:
                    catalog_parameter.grant_read(worker.function)
            self.workers[spec.name] = worker

        # Every worker may send jobs: a run's children, a finished child's parent continuation.
        for sender in self.workers.values():
            for worker in self.workers.values():
                worker.queue.grant_send_messages(sender.function)

        job_routes = job_type_routes(config.workers, self._worker_url, lambda w: self.workers[w].queue.queue_url, stage=config.stage)
        ssm.StringParameter(
            self, "JobRoutes", parameter_name=config.job_routes_parameter, string_value=self.to_json_string(job_routes),
            description="Where each Courier job type runs (read by the workers)",
        )
        sealing = SealingKey(self, "SourcesKey", config=config)
        jobs_spec = config.jobs_api
        self.jobs_api = CourierFunction(
            self,
            "JobsApi",
            name=jobs_spec.name,
            stage=config.stage,
            layers=self.layers.for_function(jobs_spec.layers),
            memory_mb=jobs_spec.memory_mb,
            timeout=Duration.seconds(jobs_spec.timeout_seconds),
            log_retention_days=config.log_retention_days,
            environment={
                **common_env,
                **api_environment(
                    config,
                    public_api_url=self.api.url,
                    job_types_json=self.to_json_string(job_routes),
                    sources_key=sealing.key.key_arn,
                ),
            },
        )
        self.storage.grant_table(self.jobs_api.role)
        sealing.grant_seal_and_open(self.jobs_api.role)
        # Presigned PUTs act with the signer's rights; GETs read large results.
        self.storage.grant_objects(self.jobs_api.role, UPLOADS_PREFIX, ["s3:PutObject"])
        self.storage.grant_objects(self.jobs_api.role, RESULTS_PREFIX, ["s3:GetObject"])
        self.storage.grant_objects(self.jobs_api.role, INPUTS_PREFIX, ["s3:PutObject"])
        qstash_secret.grant_read(self.jobs_api.function)
        for worker in self.workers.values():
            worker.queue.grant_send_messages(self.jobs_api.function)

        self.dashboard = Dashboard(self, "Dashboard", name=stack_name(config.stage), workers=self.workers)

        functions = {"jobs_api": self.jobs_api.function, **{name: w.function for name, w in self.workers.items()}}
        for name, routes in API_ROUTES.items():
            self.api.add_routes(functions[name], _methods(routes), f"{pascal_name(name)}Integration")
        self.api.set_default_route(functions[DEFAULT_ROUTE_FUNCTION], f"{pascal_name(DEFAULT_ROUTE_FUNCTION)}Integration")
        if not config.uses_function_urls:
            Annotations.of(self).add_info(
                f"{config.region}: no Lambda Function URLs here; deploying SQS-only (every job goes by SQS)."
            )

    def _worker_url(self, name: str) -> str:
        url = self.workers[name].url
        return url.url if url is not None else ""


def _methods(routes: tuple[tuple[str, str], ...]) -> list[tuple[str, apigwv2.HttpMethod]]:
    return [(path, apigwv2.HttpMethod[method]) for path, method in routes]
