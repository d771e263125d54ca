"""Local AWS (moto in server mode) with the bucket, table and queues the CDK stack creates,
made from the same configuration (infra.config), not from a copy of its names."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from infra.config import (
    DLQ_RETENTION_DAYS,
    GSI_KEYS,
    MAX_RECEIVE_COUNT,
    QUEUE_RETENTION_DAYS,
    TABLE_PARTITION_KEY,
    TABLE_SORT_KEY,
    TABLE_TTL_ATTRIBUTE,
    CourierConfig,
    WorkerSpec,
)


@dataclass
class WorkerQueues:
    queue_url: str
    dead_letter_queue_url: str
    #: The event source mapping's id in local AWS: `courier flow pause` disables it there as
    #: on AWS, and the local poller receives only while it is enabled.
    event_source_mapping: str = ""


@dataclass
class LocalResources:
    table_name: str
    bucket_name: str
    queues: dict[str, WorkerQueues] = field(default_factory=dict)
    #: The KMS key that seals inbound webhook sources' secrets (its alias's ARN).
    sources_key: str = ""


def names(config: CourierConfig) -> tuple[str, str]:
    return f"courier-{config.stage}-jobs", f"courier-{config.stage}-data"


def create_resources(
    config: CourierConfig, *, session: Any = None, visibility_timeout_seconds: int | None = None, event_sources: bool = False
) -> LocalResources:
    """Idempotent: creating what exists already is a no-op.

    `visibility_timeout_seconds` shortens every queue's timeout (tests: seconds, not the
    6 x 15 minutes AWS needs), keeping redrive and maxReceiveCount as deployed.
    `event_sources`: also the workers' function records and their queues' event source
    mappings, which `courier flow pause` disables and the local stack's pollers obey; a test
    that runs its own pollers needs neither (they cost two dozen requests).
    """
    import boto3

    if session is None:  # boto3's own: a new session per call would parse each service's model again
        if boto3.DEFAULT_SESSION is None:
            boto3.setup_default_session()
        session = boto3.DEFAULT_SESSION
    dynamodb, s3, sqs = session.client("dynamodb"), session.client("s3"), session.client("sqs")
    table_name, bucket_name = names(config)
    resources = LocalResources(table_name, bucket_name)

    existing = dynamodb.list_tables()["TableNames"]
    if table_name not in existing:
        attributes = {TABLE_PARTITION_KEY, TABLE_SORT_KEY} | {a for pair in GSI_KEYS.values() for a in pair}
        dynamodb.create_table(
            TableName=table_name,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in sorted(attributes)],
            KeySchema=[{"AttributeName": TABLE_PARTITION_KEY, "KeyType": "HASH"}, {"AttributeName": TABLE_SORT_KEY, "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": index,
                    "KeySchema": [{"AttributeName": pk, "KeyType": "HASH"}, {"AttributeName": sk, "KeyType": "RANGE"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
                for index, (pk, sk) in GSI_KEYS.items()
            ],
        )
        dynamodb.update_time_to_live(
            TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": TABLE_TTL_ATTRIBUTE}
        )

    buckets = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if bucket_name not in buckets:
        s3.create_bucket(Bucket=bucket_name)
        s3.put_bucket_cors(
            Bucket=bucket_name,
            CORSConfiguration={"CORSRules": [{
                "AllowedMethods": ["PUT", "GET"], "AllowedOrigins": list(config.cors_origins),
                "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"],
            }]},
        )

    for spec in config.workers:
        base = f"courier-{config.stage}-{spec.name.replace('_', '-')}"
        dlq_url = sqs.create_queue(QueueName=f"{base}-dlq", Attributes={"MessageRetentionPeriod": str(DLQ_RETENTION_DAYS * 86400)})["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        visibility = visibility_timeout_seconds or spec.visibility_timeout_seconds
        queue_url = sqs.create_queue(
            QueueName=base,
            Attributes={
                "VisibilityTimeout": str(visibility),
                "MessageRetentionPeriod": str(QUEUE_RETENTION_DAYS * 86400),
                "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVE_COUNT}),
            },
        )["QueueUrl"]
        mapping = event_source_mapping(session, base, queue_url, spec) if event_sources else ""
        resources.queues[spec.name] = WorkerQueues(queue_url, dlq_url, mapping)
    resources.sources_key = sources_key(session, config)
    return resources


def sources_key(session: Any, config: CourierConfig) -> str:
    """The key sealing webhook sources' secrets, by its alias (as the stack's `SourcesKey`). Idempotent."""
    kms = session.client("kms")
    alias = f"alias/courier-{config.stage}-sources"
    if not any(entry["AliasName"] == alias for entry in kms.list_aliases()["Aliases"]):
        key_id = kms.create_key(Description="Courier: inbound webhook sources' secrets")["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    return str(kms.describe_key(KeyId=alias)["KeyMetadata"]["Arn"])


def event_source_mapping(session: Any, name: str, queue_url: str, spec: WorkerSpec) -> str:
    """The worker's function and its queue's event source mapping, as records in local AWS
    (the local runtime runs the function; this is what `lambda:*EventSourceMapping` sees).
    Idempotent: an existing mapping is kept, with its state."""
    import io
    import zipfile

    lam, sqs = session.client("lambda"), session.client("sqs")
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    found = lam.list_event_source_mappings(EventSourceArn=arn)["EventSourceMappings"]
    if found:
        return str(found[0]["UUID"])
    iam = session.client("iam")
    try:
        role = iam.get_role(RoleName=f"{name}-role")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))["Role"]["Arn"]
    try:
        lam.get_function(FunctionName=name)
    except lam.exceptions.ResourceNotFoundException:
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("handler.py", "# run by the local runtime (devstack.runtime), not here\n")
        lam.create_function(FunctionName=name, Runtime="python3.13", Role=role, Handler="handler.handler", Code={"ZipFile": code.getvalue()})
    mapping = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, BatchSize=spec.batch_size,
                                              ScalingConfig={"MaximumConcurrency": spec.max_concurrency}, FunctionResponseTypes=["ReportBatchItemFailures"])
    return str(mapping["UUID"])
