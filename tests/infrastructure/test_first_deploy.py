"""What a first deploy in a real account needs from the template: stable output names,
regions without Function URLs, browser access, reserved concurrency, a customer's KMS key,
S3 listing for honest 404s, and the `$default` route."""

from __future__ import annotations

import json

import pytest

from infra.config import (
    OUTPUT_ALARM_TOPIC,
    OUTPUT_API_URL,
    OUTPUT_BUCKET_NAME,
    OUTPUT_TABLE_NAME,
    REGIONS_WITHOUT_FUNCTION_URLS,
    CourierConfig,
    worker_output,
)
from tests.infrastructure.conftest import of_type, synth
from tests.infrastructure.test_stack import functions_by_service


def test_outputs_have_the_names_readme_and_courier_use(template) -> None:
    outputs = template.to_json()["Outputs"]
    expected = {OUTPUT_API_URL, OUTPUT_TABLE_NAME, OUTPUT_BUCKET_NAME, OUTPUT_ALARM_TOPIC}
    expected |= {worker_output(w.name, kind) for w in CourierConfig().workers for kind in ("FunctionUrl", "QueueUrl", "DeadLetterQueueUrl")}
    assert set(outputs) == expected
    assert {"VideoProcessorFunctionUrl", "AiRouterQueueUrl", "ApiUrl", "TableName"} <= set(outputs)


@pytest.mark.parametrize("region", ["eu-central-2", "il-central-1", "cn-northwest-1", "us-gov-west-1"])
def test_regions_without_function_urls_deploy_sqs_only(tmp_path_factory, region: str) -> None:
    assert region in REGIONS_WITHOUT_FUNCTION_URLS
    _, template = synth(tmp_path_factory, region=region)
    resources = template.to_json()["Resources"]
    assert not of_type(resources, "AWS::Lambda::Url")
    assert [k for k in of_type(resources, "AWS::SSM::Parameter")] == [k for k in resources if k.startswith("JobRoutes")]  # no URL parameters
    functions = functions_by_service(resources)
    assert functions["jobs_api"]["Environment"]["Variables"]["DISPATCH_MODE"] == "sqs"
    assert "WORKER_PUBLIC_URL_PARAMETER" not in functions["video_processor"]["Environment"]["Variables"]
    assert len(of_type(resources, "AWS::Lambda::EventSourceMapping")) == len(CourierConfig().workers)  # SQS still runs every worker
    assert not any(key.endswith("FunctionUrl") for key in template.to_json()["Outputs"])


def test_function_urls_where_the_region_has_them_or_when_forced(tmp_path_factory) -> None:
    _, regular = synth(tmp_path_factory, region="eu-west-1")
    workers = len(CourierConfig().workers)
    assert len(of_type(regular.to_json()["Resources"], "AWS::Lambda::Url")) == workers
    _, forced = synth(tmp_path_factory, region="eu-central-2", functionUrls="true")
    assert len(of_type(forced.to_json()["Resources"], "AWS::Lambda::Url")) == workers
    with pytest.raises(ValueError, match="needs Function URLs"):
        CourierConfig.from_context({"region": "ca-west-1", "dispatchMode": "qstash"}.get)


def test_cors_only_when_asked_for(template, tmp_path_factory) -> None:
    (api,) = of_type(template.to_json()["Resources"], "AWS::ApiGatewayV2::Api").values()
    assert "CorsConfiguration" not in api["Properties"]  # API keys stay server-side by default
    _, with_cors = synth(tmp_path_factory, apiCorsOrigins="https://console.example.com, https://app.example.com")
    (api,) = of_type(with_cors.to_json()["Resources"], "AWS::ApiGatewayV2::Api").values()
    cors = api["Properties"]["CorsConfiguration"]
    assert cors["AllowOrigins"] == ["https://console.example.com", "https://app.example.com"]
    assert set(cors["AllowHeaders"]) == {"authorization", "content-type", "x-api-key"}
    with pytest.raises(ValueError, match="not an origin"):
        CourierConfig.from_context({"apiCorsOrigins": "console.example.com"}.get)


def test_reserved_concurrency_can_be_set_or_turned_off(tmp_path_factory) -> None:
    _, off = synth(tmp_path_factory, reservedConcurrency="off")
    assert all("ReservedConcurrentExecutions" not in f for f in functions_by_service(off.to_json()["Resources"]).values())
    _, fixed = synth(tmp_path_factory, reservedConcurrency="50")
    functions = functions_by_service(fixed.to_json()["Resources"])
    assert functions["video_processor"]["ReservedConcurrentExecutions"] == functions["ai_router"]["ReservedConcurrentExecutions"] == 50
    assert "ReservedConcurrentExecutions" not in functions["jobs_api"]  # the API takes from the unreserved pool
    with pytest.raises(ValueError, match="below its maximum concurrency"):
        CourierConfig.from_context({"reservedConcurrency": "5"}.get)


def _statements(resources: dict) -> list[dict]:
    return [s for p in of_type(resources, "AWS::IAM::Policy").values() for s in p["Properties"]["PolicyDocument"]["Statement"]]


def test_only_the_jobs_api_seals_and_opens_webhook_secrets_with_the_stacks_own_key(template) -> None:
    resources = template.to_json()["Resources"]
    (key_id,) = of_type(resources, "AWS::KMS::Key")
    assert resources[key_id]["Properties"]["EnableKeyRotation"] is True
    users = [name for name, policy in of_type(resources, "AWS::IAM::Policy").items()
             for s in policy["Properties"]["PolicyDocument"]["Statement"] if key_id in json.dumps(s.get("Resource"))]
    assert len(users) == 1 and "JobsApi" in users[0], users
    statement = next(s for s in _statements(resources) if key_id in json.dumps(s.get("Resource")))
    assert sorted(statement["Action"]) == ["kms:Decrypt", "kms:Encrypt"]


def test_a_customer_managed_key_decrypts_through_the_secret_services_only(template, tmp_path_factory) -> None:
    own_key = next(iter(of_type(template.to_json()["Resources"], "AWS::KMS::Key")))
    assert not [s for s in _statements(template.to_json()["Resources"]) if "kms:Decrypt" in str(s["Action"]) and own_key not in json.dumps(s["Resource"])]
    key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    _, with_key = synth(tmp_path_factory, secretsKmsKeyArn=key)
    resources = with_key.to_json()["Resources"]
    decrypters = set()
    for policy in of_type(resources, "AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Action"] == "kms:Decrypt":
                assert statement["Resource"] == key and "kms:ViaService" in statement["Condition"]["StringEquals"]
                decrypters |= {role["Ref"] for role in policy["Properties"]["Roles"]}
    # Every function reads the QStash secret, so every function's role may decrypt.
    assert decrypters == {f["Role"]["Fn::GetAtt"][0] for f in functions_by_service(resources).values()}
    with pytest.raises(ValueError, match="KMS key ARN"):
        CourierConfig.from_context({"secretsKmsKeyArn": "alias/mine"}.get)


def test_workers_may_list_only_the_uploads_prefix(resources) -> None:
    listing = [s for s in _statements(resources) if s["Action"] == "s3:ListBucket"]
    assert len(listing) == len(CourierConfig().workers)
    for statement in listing:
        assert statement["Condition"] == {"StringLike": {"s3:prefix": ["uploads/*"]}}


def test_unknown_paths_reach_the_jobs_api_by_the_default_route(resources) -> None:
    routes = [r["Properties"]["RouteKey"] for r in of_type(resources, "AWS::ApiGatewayV2::Route").values()]
    assert "$default" in routes
