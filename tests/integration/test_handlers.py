"""The real Lambda handlers, invoked with events of the shapes AWS sends.

Secrets and the worker's public URL come from moto in server mode, the way they come
from Secrets Manager and SSM in AWS.
"""

from __future__ import annotations

import importlib
import json
import sys
from types import ModuleType

import boto3
import pytest

from courier.jobs.dynamodb_store import DynamoJobStore
from courier.jobs.models import Job, JobStatus, utc_now
from courier.jobs.store import new_job_id
from devstack.aws_resources import create_resources
from devstack.runtime import events
from devstack.runtime.events import QueuedMessage
from infra.config import CourierConfig
from tests.support.events import LambdaContext, function_url_event, http_api_event, sqs_event
from tests.support.qstash_tokens import CURRENT_KEY, NEXT_KEY, sign

WORKER_URL = "https://r3pmxmplak4kvpx3ev4dp6f2bs0zjzgo.lambda-url.us-east-1.on.aws/"
WORKERS = {"video_processor": "video.analyze", "ai_router": "ai.route"}


def load(name: str) -> ModuleType:
    """Import a function's handler afresh, as a cold start with the current environment."""
    module = f"functions.{name}.handler"
    sys.modules.pop(module, None)
    return importlib.import_module(module)


@pytest.fixture
def deployed(aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment CDK gives a worker, with its secret and URL parameter in (local) AWS."""
    secret = boto3.client("secretsmanager").create_secret(
        Name="courier/test/qstash",
        SecretString=json.dumps({"token": "t", "currentSigningKey": CURRENT_KEY, "nextSigningKey": NEXT_KEY}),
    )
    boto3.client("ssm").put_parameter(Name="/courier/test/workers/w/url", Value=WORKER_URL, Type="String")
    monkeypatch.setenv("QSTASH_SECRET_REF", f"secretsmanager:{secret['ARN']}")
    monkeypatch.setenv("WORKER_PUBLIC_URL_PARAMETER", "/courier/test/workers/w/url")


def invoke(name: str, event: dict) -> dict:
    return load(name).handler(event, LambdaContext())


def body(response: dict) -> dict:
    return json.loads(response["body"])


# --- HTTP API (API Gateway v2 -> Mangum -> FastAPI) -------------------------------------
def test_health_without_a_deployment_fails_and_names_each_missing_part() -> None:
    health = invoke("jobs_api", http_api_event("GET", "/healthz"))
    assert health["statusCode"] == 503 and body(health)["error"]["code"] == "misconfigured"
    statuses = {c["name"]: c["status"] for c in body(health)["checks"]}
    assert statuses["table"] == statuses["job_types"] == statuses["qstash_secret"] == "fail"


@pytest.mark.parametrize("name", ["jobs_api", "ai_router"])
def test_docs_and_openapi(name: str) -> None:
    docs = invoke(name, http_api_event("GET", "/docs"))
    assert docs["statusCode"] == 200 and "swagger-ui" in docs["body"]
    spec = invoke(name, http_api_event("GET", "/openapi.json"))
    assert spec["statusCode"] == 200 and ("/healthz" in body(spec)["paths"]) == (name == "jobs_api")


@pytest.mark.parametrize(
    "method, path",
    [("POST", "/v1/jobs"), ("GET", "/v1/jobs"), ("GET", "/v1/jobs/j-1"), ("POST", "/v1/jobs/j-1/retry"),
     ("DELETE", "/v1/jobs/j-1"), ("POST", "/v1/uploads")],
)
def test_jobs_api_wants_an_api_key(method: str, path: str) -> None:
    payload = {"type": "text.hash", "input": {}} if path == "/v1/jobs" else ({"contentType": "video/mp4", "sizeBytes": 1} if path == "/v1/uploads" else None)
    response = invoke("jobs_api", http_api_event(method, path, body=payload))
    assert response["statusCode"] == 401
    assert body(response)["error"]["code"] == "unauthorized"


def test_failure_hook_wants_a_signature() -> None:
    response = invoke("jobs_api", http_api_event("POST", "/v1/hooks/qstash/failure", body={"sourceBody": "e30="}))
    assert response["statusCode"] == 401 and body(response)["error"]["code"] == "invalid_signature"


def test_unknown_route_and_wrong_method_use_the_error_shape() -> None:
    missing = invoke("jobs_api", http_api_event("GET", "/v1/nothing-here"))
    assert missing["statusCode"] == 404 and body(missing)["error"]["code"] == "not_found"
    wrong = invoke("jobs_api", http_api_event("PUT", "/v1/uploads"))
    assert wrong["statusCode"] == 405 and body(wrong)["error"]["code"] == "method_not_allowed"


# --- Workers: QStash through the Function URL ------------------------------------------
@pytest.fixture
def jobs(deployed: None, monkeypatch: pytest.MonkeyPatch) -> DynamoJobStore:
    """The jobs table as CDK creates it, in (local) AWS."""
    resources = create_resources(CourierConfig(stage="handlers"))
    monkeypatch.setenv("TABLE_NAME", resources.table_name)
    monkeypatch.setenv("BUCKET_NAME", resources.bucket_name)
    return DynamoJobStore(resources.table_name)


def queued_job(store: DynamoJobStore, job_type: str, data: dict) -> Job:
    now = utc_now()
    job, _ = store.create(Job(new_job_id(), "acme", job_type, JobStatus.QUEUED, data, now, now))
    return job


def delivery(job_id: str, job_type: str, *, key: str = CURRENT_KEY, url: str = WORKER_URL, binary: bool = False) -> dict:
    raw = json.dumps({"jobId": job_id, "type": job_type}).encode()
    return function_url_event(raw, headers={"upstash-signature": sign(raw, url, key=key)}, binary=binary)


INPUTS = {"video.analyze": {"videoKey": "uploads/acme/v.mp4"}, "ai.route": {"type": "generation", "prompt": "hi"}}


#: A job that fails retryably on its first attempts (demo.sleep's failTimes).
FAILING = {"failTimes": 10}


def test_signed_delivery_runs_the_job_and_a_retryable_failure_is_retried(jobs: DynamoJobStore) -> None:
    job = queued_job(jobs, "demo.sleep", FAILING)
    for event in (delivery(job.job_id, "demo.sleep"), delivery(job.job_id, "demo.sleep", key=NEXT_KEY, binary=True)):
        response = invoke("ai_router", event)
        assert response["statusCode"] == 503, response  # QStash delivers it again
        assert body(response)["error"]["code"] == "demo_retryable"
    stored = jobs.get(job.job_id)
    assert stored.status is JobStatus.RETRYING and stored.attempts == 2 and stored.error.code == "demo_retryable"


def test_a_missing_model_fails_the_job_at_once_with_the_fix(jobs: DynamoJobStore) -> None:
    """No model endpoint is configured here: a deployment's configuration, which no
    redelivery can mend, so the job fails now (489) and says what to set."""
    job = queued_job(jobs, "ai.route", INPUTS["ai.route"])
    response = invoke("ai_router", delivery(job.job_id, "ai.route"))
    assert response["statusCode"] == 489 and body(response)["error"]["code"] == "no_deployment"
    assert "AZURE_AI_FOUNDRY_ENDPOINT" in body(response)["error"]["message"]
    stored = jobs.get(job.job_id)
    assert stored.status is JobStatus.FAILED and stored.attempts == 1 and stored.error.retryable is False


def test_a_video_job_without_its_upload_fails_for_good(jobs: DynamoJobStore) -> None:
    job = queued_job(jobs, "video.analyze", INPUTS["video.analyze"])
    response = invoke("video_processor", delivery(job.job_id, "video.analyze"))
    assert response["statusCode"] == 489 and body(response)["error"]["code"] == "video_not_found"
    assert jobs.get(job.job_id).status is JobStatus.FAILED


def test_signed_delivery_of_a_builtin_job_succeeds(jobs: DynamoJobStore) -> None:
    job = queued_job(jobs, "text.hash", {"text": "abc"})
    response = invoke("ai_router", delivery(job.job_id, "text.hash"))
    assert response["statusCode"] == 200 and body(response) == {"jobId": job.job_id, "status": "succeeded"}
    again = invoke("ai_router", delivery(job.job_id, "text.hash"))  # a duplicate: acknowledged, not run
    assert again["statusCode"] == 200 and jobs.get(job.job_id).attempts == 1


@pytest.mark.parametrize("name, job_type", WORKERS.items())
def test_bad_signatures_refused_and_the_job_untouched(jobs: DynamoJobStore, name: str, job_type: str) -> None:
    job = queued_job(jobs, job_type, INPUTS[job_type])
    forged = delivery(job.job_id, job_type, key="sig_notTheRightKey0000000000000")
    other_url = delivery(job.job_id, job_type, url="https://elsewhere.example/")
    unsigned = function_url_event({"jobId": job.job_id, "type": job_type})
    tampered = delivery(job.job_id, job_type)
    tampered["body"] = tampered["body"].replace(job.job_id, "job_someone_else")
    for event in (forged, other_url, unsigned, tampered):
        response = invoke(name, event)
        assert response["statusCode"] == 401, response
        assert body(response)["error"]["code"] == "invalid_signature"
    assert jobs.get(job.job_id).status is JobStatus.QUEUED and jobs.get(job.job_id).attempts == 0


def test_signed_but_malformed_or_foreign_messages_are_not_retried(jobs: DynamoJobStore) -> None:
    for raw in (b"not json", json.dumps({"jobId": "j-1", "type": "ai.route"}).encode(), json.dumps({"jobId": "job_gone", "type": "video.analyze"}).encode()):
        event = function_url_event(raw, headers={"upstash-signature": sign(raw, WORKER_URL)})
        response = invoke("video_processor", event)
        assert response["statusCode"] == 489
        assert response["headers"]["Upstash-NonRetryable-Error"] == "true"
        assert body(response)["error"]["code"] in ("invalid_message", "wrong_worker", "job_not_found")


def test_only_post_is_a_delivery(deployed) -> None:
    response = invoke("video_processor", function_url_event(None, method="GET"))
    assert response["statusCode"] == 405 and body(response)["error"]["code"] == "method_not_allowed"


def test_an_unsigned_flood_costs_no_heavy_import(deployed, monkeypatch: pytest.MonkeyPatch) -> None:
    """The video worker's URL is public: an unsigned request is refused before PyAV or
    numpy is imported (they load on the first verified job), in a cold process."""
    import subprocess

    script = (
        "import json, sys\n"
        "from functions.video_processor.handler import handler\n"
        "from tests.support.events import LambdaContext, function_url_event\n"
        "response = handler(function_url_event(json.dumps({'jobId': 'job_x', 'type': 'video.analyze'}).encode()), LambdaContext())\n"
        "print(json.dumps({'status': response['statusCode'], 'heavy': sorted({'av', 'numpy'} & set(sys.modules))}))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env={**__import__("os").environ})
    assert result.returncode == 0, result.stderr[-2000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome == {"status": 401, "heavy": []}


def test_missing_keys_are_our_fault_not_the_callers(aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKER_PUBLIC_URL", WORKER_URL)
    monkeypatch.setenv("QSTASH_SECRET_REF", "secretsmanager:courier/test/absent")
    response = invoke("video_processor", delivery("job_x", "video.analyze"))
    assert response["statusCode"] >= 500


# --- Workers: SQS through the event source mapping -------------------------------------
def test_sqs_batch_reports_only_what_should_be_retried(jobs: DynamoJobStore) -> None:
    name, job_type = "ai_router", "demo.sleep"
    job = queued_job(jobs, job_type, FAILING)
    event = sqs_event(
        json.dumps({"jobId": job.job_id, "type": job_type}),  # fails retryably: retry
        "garbage",  # can never succeed: removed (logged), not retried forever
        json.dumps({"jobId": "j-3", "type": "no.such.type"}),  # not ours: removed
    )
    response = invoke(name, event)
    assert response == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}


def test_last_sqs_receive_marks_the_job_dead(jobs: DynamoJobStore) -> None:
    job = queued_job(jobs, "demo.sleep", FAILING)
    event = sqs_event(json.dumps({"jobId": job.job_id, "type": "demo.sleep"}), receive_count=5)
    response = invoke("ai_router", event)
    assert len(response["batchItemFailures"]) == 1  # still reported: SQS moves it to the DLQ
    dead = jobs.get(job.job_id)
    assert dead.status is JobStatus.DEAD and dead.error.code == "retries_exhausted"


def test_a_record_that_meets_its_job_running_returns_when_the_lease_ends(jobs: DynamoJobStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not after the queue's visibility timeout (30 minutes here, as deployed for ai_router)."""
    sqs = boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName="handlers-ai", Attributes={"VisibilityTimeout": "1800"})["QueueUrl"]
    monkeypatch.setenv("WORKER_QUEUE_URL", queue_url)
    job = queued_job(jobs, "text.hash", {"text": "x"})
    jobs.claim(job.job_id, lease_seconds=2)  # another delivery runs it
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"jobId": job.job_id, "type": "text.hash"}))
    [received] = sqs.receive_message(QueueUrl=queue_url, AttributeNames=["All"])["Messages"]
    message = QueuedMessage(received["MessageId"], received["ReceiptHandle"], received["Body"], received["Attributes"])
    response = invoke("ai_router", events.sqs_event([message], "arn:aws:sqs:us-east-1:123456789012:handlers-ai"))
    assert response == {"batchItemFailures": [{"itemIdentifier": received["MessageId"]}]}
    again = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=5, AttributeNames=["All"]).get("Messages", [])
    assert [m["MessageId"] for m in again] == [received["MessageId"]]
    assert again[0]["Attributes"]["ApproximateReceiveCount"] == "2"


def test_worker_refuses_deployment_for_types_it_does_not_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKER_JOB_TYPES", "video.analyze,video.transcode")
    with pytest.raises(RuntimeError, match="video.transcode"):
        load("video_processor")


def test_job_metrics_and_correlation_id(jobs: DynamoJobStore, capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    from courier.observability import logger

    job = queued_job(jobs, "text.hash", {"text": "metrics"})
    logger.registered_handler.setStream(sys.stdout)  # the Logger kept the stdout of its first test
    invoke("ai_router", delivery(job.job_id, "text.hash"))
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    metrics = {m["Name"] for line in lines for d in line.get("_aws", {}).get("CloudWatchMetrics", []) for m in d["Metrics"]}
    assert {"JobsSucceeded", "JobDuration", "JobAttempts"} <= metrics
    logged = [line for line in lines if "message" in line and line.get("jobId") == job.job_id]
    assert logged and all(line["correlation_id"] == job.job_id for line in logged)
