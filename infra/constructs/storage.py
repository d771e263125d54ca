"""Courier's state: the S3 bucket for uploads and results, the DynamoDB table for jobs and keys."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.config import (
    GSI_KEYS,
    INPUTS_PREFIX,
    OUTPUT_BUCKET_NAME,
    OUTPUT_TABLE_NAME,
    RESULTS_PREFIX,
    TABLE_PARTITION_KEY,
    TABLE_SORT_KEY,
    TABLE_TTL_ATTRIBUTE,
    UPLOADS_PREFIX,
    CourierConfig,
)
from infra.nag import acknowledge

#: What job code does with items: no scans, no table-wide deletes.
TABLE_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:Query",
)


class Storage(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: CourierConfig) -> None:
        super().__init__(scope, construct_id)
        removal = RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY

        def private_bucket(bucket_id: str, **props: Any) -> s3.Bucket:
            return s3.Bucket(
                self,
                bucket_id,
                block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
                encryption=s3.BucketEncryption.S3_MANAGED,
                enforce_ssl=True,
                object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
                removal_policy=removal,
                auto_delete_objects=not config.retain_data,
                **props,
            )

        self.access_logs = private_bucket(
            "AccessLogs", lifecycle_rules=[s3.LifecycleRule(id="expire-logs", expiration=Duration.days(90))]
        )
        acknowledge(
            self.access_logs,
            "AwsSolutions-S1",
            "This bucket receives the data bucket's server access logs; logging it again would loop.",
        )

        self.bucket = private_bucket(
            "Data",
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="data/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-uploads",
                    prefix=UPLOADS_PREFIX,
                    expiration=Duration.days(config.upload_expiry_days),
                ),
                s3.LifecycleRule(
                    id="expire-inputs",
                    prefix=INPUTS_PREFIX,
                    expiration=Duration.days(config.result_expiry_days),
                ),
                s3.LifecycleRule(
                    id="expire-results",
                    prefix=RESULTS_PREFIX,
                    expiration=Duration.days(config.result_expiry_days),
                ),
                s3.LifecycleRule(id="abort-incomplete-uploads", abort_incomplete_multipart_upload_after=Duration.days(1)),
            ],
            # Browsers PUT uploads straight to S3 with presigned URLs from POST /v1/uploads.
            cors=[
                s3.CorsRule(
                    allowed_methods=[s3.HttpMethods.PUT, s3.HttpMethods.GET],
                    allowed_origins=list(config.cors_origins),
                    allowed_headers=["*"],
                    exposed_headers=["ETag"],
                    max_age=3600,
                )
            ],
        )

        self.table = dynamodb.Table(
            self,
            "Jobs",
            partition_key=dynamodb.Attribute(name=TABLE_PARTITION_KEY, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=TABLE_SORT_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=TABLE_TTL_ATTRIBUTE,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            removal_policy=removal,
        )
        for index_name, (pk, sk) in GSI_KEYS.items():
            self.table.add_global_secondary_index(
                index_name=index_name,
                partition_key=dynamodb.Attribute(name=pk, type=dynamodb.AttributeType.STRING),
                sort_key=dynamodb.Attribute(name=sk, type=dynamodb.AttributeType.STRING),
                projection_type=dynamodb.ProjectionType.ALL,
            )

        # Outputs at stack level keep their ids as logical ids (the names `courier` reads).
        CfnOutput(Stack.of(self), OUTPUT_BUCKET_NAME, value=self.bucket.bucket_name, description="Data bucket (uploads/, inputs/, results/)")
        CfnOutput(Stack.of(self), OUTPUT_TABLE_NAME, value=self.table.table_name, description="Jobs and API keys table")

    def grant_table(self, role: iam.IRole) -> None:
        """Item access to the table and its named indexes (not `index/*`)."""
        table_arn = self.table.table_arn
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=list(TABLE_ACTIONS),
                resources=[table_arn, *(f"{table_arn}/index/{name}" for name in GSI_KEYS)],
            )
        )

    def grant_listing(self, role: iam.IRole, prefix: str) -> None:
        """ListBucket limited to keys under `prefix` (the `s3:prefix` a request may ask for)."""
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[self.bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{prefix}*"]}},
            )
        )

    def grant_objects(self, role: iam.IRole, prefix: str, actions: list[str]) -> None:
        """Object actions under one prefix of the data bucket, never bucket-wide."""
        if not prefix.endswith("/"):
            raise ValueError("a prefix ends with '/'")
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=actions, resources=[self.bucket.arn_for_objects(f"{prefix}*")])
        )
        bucket_id = Stack.of(self).get_logical_id(self.bucket.node.default_child)  # type: ignore[arg-type]
        acknowledge(
            role,
            f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/{prefix}*]",
            f"Objects are keyed by tenant and job under {prefix}; the grant is limited to that prefix.",
        )
