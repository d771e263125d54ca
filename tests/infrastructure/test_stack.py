"""The synthesized template has every property the foundation promises."""

from __future__ import annotations

import json

import pytest
from aws_cdk import assertions

from infra.config import DLQ_RETENTION_DAYS, MAX_RECEIVE_COUNT, VISIBILITY_TIMEOUT_FACTOR, CourierConfig, alarm_count
from infra.nag import STAR_RESOURCE_ACTIONS
from tests.infrastructure.conftest import of_type, synth

Match = assertions.Match


def functions_by_service(resources: dict) -> dict[str, dict]:
    return {
        r["Properties"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]: {"id": logical_id, **r["Properties"]}
        for logical_id, r in of_type(resources, "AWS::Lambda::Function").items()
    }


def _dimension_id(value: object) -> str | None:
    """Logical id a queue-name (Fn::GetAtt QueueName) or function (Ref) dimension points at."""
    return ref_id(value) if isinstance(value, dict) else None


def ref_id(value: dict) -> str:
    """Logical id behind a Ref or Fn::GetAtt."""
    return value["Ref"] if "Ref" in value else value["Fn::GetAtt"][0]


WORKERS = {w.name: w for w in CourierConfig().workers}
MODEL_USERS = frozenset(w.name for w in CourierConfig().workers if w.calls_models)


# --- Lambda ----------------------------------------------------------------------------
def test_every_function_is_python_312_or_newer_on_arm64(resources) -> None:
    functions = functions_by_service(resources)
    assert set(functions) == {f.name for f in CourierConfig().functions}
    for name, fn in functions.items():
        family, version = fn["Runtime"][:6], fn["Runtime"][6:]
        assert family == "python" and tuple(map(int, version.split("."))) >= (3, 12), name
        assert fn["Architectures"] == ["arm64"], name
        assert fn["Handler"] == "handler.handler"
        assert len(fn["Layers"]) >= 2, f"{name}: shared library and dependencies layers"
        assert "LoggingConfig" in fn


def test_video_processor_is_sized_for_video(resources) -> None:
    fn = functions_by_service(resources)["video_processor"]
    assert fn["MemorySize"] >= 2048
    assert fn["Timeout"] == 900
    assert fn["EphemeralStorage"]["Size"] >= 2048
    assert len(fn["Layers"]) == 4, "shared library, workers of your own, common deps, video deps"


def test_api_functions_fit_api_gateway(resources) -> None:
    assert functions_by_service(resources)["jobs_api"]["Timeout"] <= 29


# --- Queued workers --------------------------------------------------------------------
@pytest.mark.parametrize("worker", ["video_processor", "ai_router"])
def test_queued_worker_wiring(resources, worker: str) -> None:
    fn = functions_by_service(resources)[worker]
    mappings = [
        m["Properties"] for m in of_type(resources, "AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": fn["id"]}
    ]
    assert len(mappings) == 1
    mapping = mappings[0]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["ScalingConfig"]["MaximumConcurrency"] >= 2

    queue = resources[ref_id(mapping["EventSourceArn"])]["Properties"]
    assert queue["VisibilityTimeout"] >= VISIBILITY_TIMEOUT_FACTOR * fn["Timeout"]
    assert queue["SqsManagedSseEnabled"] is True
    redrive = queue["RedrivePolicy"]
    assert redrive["maxReceiveCount"] == MAX_RECEIVE_COUNT
    dlq_id = ref_id(redrive["deadLetterTargetArn"])
    dlq = resources[dlq_id]["Properties"]
    assert dlq["MessageRetentionPeriod"] == DLQ_RETENTION_DAYS * 86400
    # A message keeps its first enqueue time in the DLQ: the DLQ must keep it longer.
    assert dlq["MessageRetentionPeriod"] > queue["MessageRetentionPeriod"]
    # Reserved: room for both queues at full parallelism, and no more than that.
    assert fn["ReservedConcurrentExecutions"] == 2 * mapping["ScalingConfig"]["MaximumConcurrency"]
    assert dlq["SqsManagedSseEnabled"] is True

    urls = [u["Properties"] for u in of_type(resources, "AWS::Lambda::Url").values()
            if ref_id(u["Properties"]["TargetFunctionArn"]) == fn["id"]]
    assert urls == [{"AuthType": "NONE", "TargetFunctionArn": {"Fn::GetAtt": [fn["id"], "Arn"]}}]

    # Alarms: DLQ depth, errors, throttles, p99 duration, age of oldest message, dead jobs, all to the topic.
    watched = {fn["id"], dlq_id, ref_id(mapping["EventSourceArn"])}
    alarms = [a["Properties"] for a in of_type(resources, "AWS::CloudWatch::Alarm").values()
              if {_dimension_id(d["Value"]) for d in a["Properties"].get("Dimensions", [])} & watched]
    metrics = sorted(a["MetricName"] for a in alarms)
    assert metrics == ["ApproximateAgeOfOldestMessage", "ApproximateNumberOfMessagesVisible", "Duration", "Errors", "Throttles"]
    [p99] = [a for a in alarms if a["MetricName"] == "Duration"]
    assert p99["ExtendedStatistic"] == "p99" and p99["Threshold"] == 0.8 * fn["Timeout"] * 1000
    dead_jobs = [a["Properties"] for a in of_type(resources, "AWS::CloudWatch::Alarm").values()
                 if [m for m in a["Properties"].get("Metrics", []) if _service(m) == worker]]
    assert len(dead_jobs) == 1 and dead_jobs[0]["Threshold"] == 1
    series = [m["MetricStat"] for m in dead_jobs[0]["Metrics"] if "MetricStat" in m]
    types = {d["Value"] for s in series for d in s["Metric"]["Dimensions"] if d["Name"] == "type"}
    assert {s["Metric"]["MetricName"] for s in series} == {"JobsDead"} and types == set(WORKERS[worker].job_types)
    assert {s["Period"] for s in series} == {3600}
    topic = next(iter(of_type(resources, "AWS::SNS::Topic")))
    for alarm in [*alarms, *dead_jobs]:
        assert alarm["AlarmActions"] == [{"Ref": topic}] and alarm["OKActions"] == [{"Ref": topic}]


def _service(metric: dict) -> str | None:
    dimensions = metric.get("MetricStat", {}).get("Metric", {}).get("Dimensions", [])
    return next((d["Value"] for d in dimensions if d["Name"] == "service"), None)


def test_the_cost_model_counts_every_alarm(resources) -> None:
    assert len(of_type(resources, "AWS::CloudWatch::Alarm")) == alarm_count(len(CourierConfig().workers))


def dashboard_body(resources: dict) -> str:
    """The dashboard's JSON with each CloudFormation token written as its logical id."""
    [dashboard] = of_type(resources, "AWS::CloudWatch::Dashboard").values()
    parts = dashboard["Properties"]["DashboardBody"]["Fn::Join"][1]
    return "".join(p if isinstance(p, str) else f"<{ref_id(p)}>" for p in parts)


def test_the_dashboard_shows_every_worker_and_the_jobs(resources) -> None:
    [dashboard] = of_type(resources, "AWS::CloudWatch::Dashboard").values()
    assert dashboard["Properties"]["DashboardName"] == "Courier-dev"
    body = json.loads(dashboard_body(resources))
    widgets = {w["properties"].get("title"): w["properties"] for w in body["widgets"]}
    functions = functions_by_service(resources)
    for name in WORKERS:
        fn = functions[name]["id"]
        queue_metrics = json.dumps(widgets[f"{name}: fallback queue"]["metrics"])
        assert "ApproximateNumberOfMessagesVisible" in queue_metrics and "ApproximateAgeOfOldestMessage" in queue_metrics
        assert "ApproximateNumberOfMessagesVisible" in json.dumps(widgets[f"{name}: dead letters"]["metrics"])
        errors = json.dumps(widgets[f"{name}: errors and throttles"]["metrics"])
        assert "Errors" in errors and "Throttles" in errors and f"<{fn}>" in errors
        timing = widgets[f"{name}: duration p99 and concurrency"]["metrics"]
        assert any("Duration" in m and m[-1].get("stat") == "p99" for m in timing)
        assert any("ConcurrentExecutions" in m and f"<{fn}>" in m for m in timing)
    searches = json.dumps([w["metrics"] for t, w in widgets.items() if t and ("Jobs" in t or "spend" in t)])
    for metric in ("JobsEnqueued", "JobsSucceeded", "JobsFailed", "JobsDead", "RouterSpendUsd"):
        assert f'MetricName=\\"{metric}\\"' in searches and "3600" in searches, metric


@pytest.mark.parametrize("metric", ["JobsEnqueued", "JobsSucceeded", "JobsFailed", "JobsDead", "RouterSpendUsd"])
def test_the_dashboards_job_metrics_are_the_ones_the_code_writes(metric: str) -> None:
    """A renamed metric would leave a graph empty: the name must be in an observability call."""
    from pathlib import Path

    library = Path(__file__).resolve().parents[2] / "layers" / "common" / "python" / "courier"
    written = "\n".join(p.read_text() for p in library.rglob("*.py"))
    assert f'"{metric}"' in written and ("observability.count(" in written and "observability.amount(" in written)


def test_queues_refuse_plain_http(resources) -> None:
    policies = of_type(resources, "AWS::SQS::QueuePolicy")
    assert len(policies) == len(of_type(resources, "AWS::SQS::Queue")) == 2 * len(CourierConfig().workers)
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements)


def test_alarm_email_only_when_given(template, tmp_path_factory) -> None:
    template.resource_count_is("AWS::SNS::Subscription", 0)
    _, with_email = synth(tmp_path_factory, alarmEmail="ops@example.com")
    with_email.has_resource_properties("AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "ops@example.com"})


# --- HTTP API --------------------------------------------------------------------------
def test_http_api_routes(resources) -> None:
    apis = of_type(resources, "AWS::ApiGatewayV2::Api")
    assert [a["Properties"]["ProtocolType"] for a in apis.values()] == ["HTTP"]
    functions = functions_by_service(resources)
    integrations = {
        logical_id: ref_id(r["Properties"]["IntegrationUri"])
        for logical_id, r in of_type(resources, "AWS::ApiGatewayV2::Integration").items()
    }
    target = {}
    for route in of_type(resources, "AWS::ApiGatewayV2::Route").values():
        integration_id = route["Properties"]["Target"]["Fn::Join"][1][1]["Ref"]
        target[route["Properties"]["RouteKey"]] = integrations[integration_id]
    for key in ("POST /v1/route", "GET /v1/models"):
        assert target[key] == functions["ai_router"]["id"]
    for key in ("ANY /v1/jobs", "ANY /v1/jobs/{proxy+}", "POST /v1/uploads", "POST /v1/hooks/{proxy+}",
                "GET /healthz", "GET /docs", "GET /openapi.json"):
        assert target[key] == functions["jobs_api"]["id"]


def test_http_api_access_logs_and_throttling(template) -> None:
    config = CourierConfig()
    template.has_resource_properties(
        "AWS::ApiGatewayV2::Stage",
        {
            "StageName": "$default",
            "AutoDeploy": True,
            "AccessLogSettings": {
                "DestinationArn": Match.any_value(),
                "Format": Match.string_like_regexp(r"\$context\.requestId"),
            },
            "DefaultRouteSettings": {
                "ThrottlingRateLimit": config.api_rate_limit,
                "ThrottlingBurstLimit": config.api_burst_limit,
            },
        },
    )


# --- Storage ---------------------------------------------------------------------------
def test_data_bucket(resources) -> None:
    buckets = of_type(resources, "AWS::S3::Bucket")
    data = next(b["Properties"] for b in buckets.values() if "LifecycleConfiguration" in b["Properties"] and "CorsConfiguration" in b["Properties"])
    assert data["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
    }
    assert data["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"]
    prefixes = {r.get("Prefix") for r in data["LifecycleConfiguration"]["Rules"]}
    assert {"uploads/", "results/"} <= prefixes
    assert "LoggingConfiguration" in data
    for policy in of_type(resources, "AWS::S3::BucketPolicy").values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements)


def test_jobs_table(template) -> None:
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "BillingMode": "PAY_PER_REQUEST",
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "TimeToLiveSpecification": {"AttributeName": "ttl", "Enabled": True},
            "GlobalSecondaryIndexes": Match.array_with(
                [Match.object_like({"IndexName": "byTenantStatus"}), Match.object_like({"IndexName": "byTenant"})]
            ),
        },
    )


def test_data_is_retained_unless_asked(resources, tmp_path_factory) -> None:
    for kind in ("AWS::S3::Bucket", "AWS::DynamoDB::Table"):
        assert all(r["DeletionPolicy"] == "Retain" for r in of_type(resources, kind).values())
    _, disposable = synth(tmp_path_factory, retainData="false", stage="sandbox")
    tables = disposable.find_resources("AWS::DynamoDB::Table")
    assert all(r["DeletionPolicy"] == "Delete" for r in tables.values())


# --- Secrets and IAM -------------------------------------------------------------------
def test_no_secret_values_anywhere(template) -> None:
    text = json.dumps(template.to_json())
    for needle in ("sig_", "QSTASH_TOKEN", "SIGNING_KEY", "SecretString", "api-key", "apiKey\""):
        assert needle not in text
    template.resource_count_is("AWS::SecretsManager::Secret", 0)
    for fn in functions_by_service(template.to_json()["Resources"]).values():
        variables = fn["Environment"]["Variables"]
        assert variables["QSTASH_SECRET_REF"] == "secretsmanager:courier/dev/qstash"


def test_deployed_functions_never_allow_loopback_targets(template) -> None:
    """The network policy's local-only exception is set by the local stack, never by CDK."""
    from courier.network import LOOPBACK_SETTING

    assert LOOPBACK_SETTING not in json.dumps(template.to_json())
    for fn in functions_by_service(template.to_json()["Resources"]).values():
        assert LOOPBACK_SETTING not in fn["Environment"]["Variables"]


def test_ssm_secure_string_references(tmp_path_factory) -> None:
    _, template = synth(tmp_path_factory, qstashSecret="ssm:/courier/prod/qstash", stage="prod")
    resources = template.to_json()["Resources"]
    for fn in functions_by_service(resources).values():
        assert fn["Environment"]["Variables"]["QSTASH_SECRET_REF"] == "ssm:/courier/prod/qstash"
    policies = json.dumps(of_type(resources, "AWS::IAM::Policy"))
    assert "parameter/courier/prod/qstash" in policies


def test_model_settings_reach_only_the_model_users(template, tmp_path_factory) -> None:
    for service, fn in functions_by_service(template.to_json()["Resources"]).items():
        variables = fn["Environment"]["Variables"]
        assert "AZURE_AI_FOUNDRY_ENDPOINT" not in variables and "COURIER_AI_CATALOG_PARAMETER" not in variables
        assert ("MODEL_KEYS_SECRET_REF" in variables) == (service in MODEL_USERS)
    _, configured = synth(
        tmp_path_factory, aiFoundryEndpoint="https://acme.services.ai.azure.com", aiCatalogParameter="/courier/dev/ai-catalog"
    )
    resources = configured.to_json()["Resources"]
    for service, fn in functions_by_service(resources).items():
        variables = fn["Environment"]["Variables"]
        users = service in MODEL_USERS
        assert (variables.get("AZURE_AI_FOUNDRY_ENDPOINT") == "https://acme.services.ai.azure.com") == users
        assert (variables.get("COURIER_AI_CATALOG_PARAMETER") == "/courier/dev/ai-catalog") == users
    readers = [json.dumps(p["Properties"]["Roles"]) for p in of_type(resources, "AWS::IAM::Policy").values()
               if "parameter/courier/dev/ai-catalog" in json.dumps(p)]
    assert len(readers) == len(MODEL_USERS) and not any("JobsApi" in r for r in readers)


@pytest.mark.parametrize("context", [{"aiFoundryEndpoint": "http://acme.services.ai.azure.com"}, {"aiCatalogParameter": "no-slash"}])
def test_model_settings_are_validated(context: dict) -> None:
    with pytest.raises(ValueError):
        CourierConfig.from_context(context.get)


def test_least_privilege(resources) -> None:
    for logical_id, policy in of_type(resources, "AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources_ = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            if "*" in resources_:  # only actions AWS grants on "*" alone, each acknowledged with its reason
                unacknowledged = [a for a in actions if len(STAR_RESOURCE_ACTIONS.get(a, "")) < 20]
                assert not unacknowledged, f"{logical_id}: Resource '*' for {unacknowledged}: {statement}"
            assert not any(a.endswith("*") for a in actions), f"{logical_id}: wildcard action {actions}"
    for role in of_type(resources, "AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role["Properties"]
    jobs_policy = next(json.dumps(p) for p in of_type(resources, "AWS::IAM::Policy").values()
                       if "JobsApi" in json.dumps(p["Properties"]["Roles"]))
    assert "sqs:SendMessage" in jobs_policy and "s3:PutObject" in jobs_policy
    assert "index/byTenant" in jobs_policy and "index/*" not in jobs_policy


def test_a_star_resource_fails_unless_acknowledged(tmp_path_factory) -> None:
    """The check above catches a careless grant: add one and it must fail."""
    from aws_cdk import aws_iam as iam

    from infra.app_factory import build_app
    from tests.infrastructure.conftest import NO_BUNDLING

    app, stack = build_app(NO_BUNDLING, outdir=str(tmp_path_factory.mktemp("star")))
    stack.jobs_api.role.add_to_principal_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"]))
    with pytest.raises(Exception, match="IAM5"):
        app.synth()  # cdk-nag stops it before the template exists


def test_worker_reads_its_url_parameter_by_name(template) -> None:
    config = CourierConfig()
    policies = json.dumps(template.find_resources("AWS::IAM::Policy"))
    for worker in config.workers:
        assert f"parameter{config.worker_url_parameter(worker.name)}" in policies
    template.has_resource_properties(
        "AWS::SSM::Parameter", {"Name": config.worker_url_parameter("video_processor"), "Type": "String"}
    )


def test_outputs(template) -> None:
    outputs = template.to_json()["Outputs"]
    names = " ".join(outputs)
    for fragment in ("ApiUrl", "VideoProcessorFunctionUrl", "AiRouterFunctionUrl", "VideoProcessorQueueUrl",
                     "AiRouterQueueUrl", "BucketName", "TableName"):
        assert fragment in names


def test_jobs_api_knows_every_job_type(resources) -> None:
    variables = functions_by_service(resources)["jobs_api"]["Environment"]["Variables"]
    job_types = json.dumps(variables["COURIER_JOB_TYPES"])
    for job_type in ("video.analyze", "ai.route"):
        assert job_type in job_types
    assert variables["DISPATCH_MODE"] == "auto"


def test_the_console_ships_in_the_jobs_apis_code() -> None:
    """The page and its files travel with the function that serves them (nothing excludes them)."""
    from fnmatch import fnmatch

    from courier.adapters.console import ASSETS, INDEX
    from infra.assets import function_dir
    from infra.constructs.lambda_function import code_excludes

    folder = function_dir("jobs_api") / "console"
    assert {p.name for p in folder.iterdir()} == {INDEX, *ASSETS}
    for name in (INDEX, *ASSETS):
        assert not any(fnmatch(name, pattern) or fnmatch(f"console/{name}", pattern) for pattern in code_excludes("jobs_api"))
