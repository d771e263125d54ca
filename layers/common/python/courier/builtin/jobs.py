"""Built-in job types: small, real, and cheap, for tests, demos and load.

text.hash hashes text; demo.sleep waits and can fail its first attempts on purpose,
which is how the retry, lease and dead-letter paths are exercised end to end; batch.run
runs jobs in parallel as its children and gathers their outcomes (fan-out, fan-in).
"""

from __future__ import annotations

import hashlib
import time
import uuid

from courier.aws import client
from courier.builtin.inputs import BatchRunInput, DemoSleepInput, DemoStepsInput, ScriptedStep, TextHashInput
from courier.errors import CourierError, InvalidInput, Misconfigured
from courier.jobs import JobContext, JobResult, RetryAfter
from courier.jobs.fanout import FanOut
from courier.jobs.payloads import results_prefix
from courier.uploads import reading_upload, require_own_upload


def text_hash(context: JobContext[TextHashInput]) -> JobResult:
    spec = context.input
    if spec.upload_key is None:
        assert spec.text is not None
        digest = hashlib.new(spec.algorithm, spec.text.encode("utf-8")).hexdigest()
        return {"algorithm": spec.algorithm, "digest": digest, "length": len(spec.text)}
    if not context.bucket:
        raise Misconfigured("no bucket configured for uploads")
    require_own_upload(spec.upload_key, context.job.tenant_id, "uploadKey")
    hasher, size = hashlib.new(spec.algorithm), 0
    with reading_upload(spec.upload_key, not_found_code="upload_not_found"):
        body = client("s3").get_object(Bucket=context.bucket, Key=spec.upload_key)["Body"]
        for chunk in iter(lambda: body.read(1024 * 1024), b""):
            hasher.update(chunk)
            size += len(chunk)
    return {"algorithm": spec.algorithm, "digest": hasher.hexdigest(), "bytes": size, "uploadKey": spec.upload_key}


def demo_sleep(context: JobContext[DemoSleepInput]) -> JobResult:
    spec = context.input
    if context.attempt <= spec.fail_times:
        if spec.fail == "fatal":
            raise InvalidInput(f"failing on purpose (attempt {context.attempt})", code="demo_fatal")
        raise CourierError(f"failing on purpose (attempt {context.attempt})", code="demo_retryable", status=503)
    if spec.mark_runs and context.bucket:
        key = f"{results_prefix(context.job.tenant_id, context.job.job_id)}runs/{uuid.uuid4().hex}"
        client("s3").put_object(Bucket=context.bucket, Key=key, Body=str(context.attempt).encode())
    deadline = time.monotonic() + spec.seconds
    while (left := deadline - time.monotonic()) > 0:  # progress as it goes, as a long job would
        context.progress("sleeping", 1 - left / spec.seconds, f"{left:.1f} s to go")
        time.sleep(min(left, 0.25))
    return {"slept": spec.seconds, "attempt": context.attempt}


def demo_steps(context: JobContext[DemoStepsInput]) -> JobResult:
    results: dict[str, object] = {}
    for step in context.input.steps:
        if step.kind == "sleep":
            context.sleep(step.name, step.seconds)
            results[step.name] = {"slept": step.seconds}
        elif step.kind == "event":
            assert step.key is not None
            results[step.name] = context.wait_for_event(step.name, step.key, timeout_seconds=step.seconds)
        elif step.kind == "call":
            assert step.url is not None
            results[step.name] = context.call(step.name, step.url, method=step.method, body=step.body,
                                              timeout_seconds=step.seconds or 60.0, max_attempts=step.max_attempts)
        else:
            results[step.name] = context.step(step.name, _scripted_run, context, step, max_attempts=step.max_attempts)
    return {"steps": results}


def _scripted_run(context: JobContext[DemoStepsInput], step: ScriptedStep) -> dict[str, object]:
    """One execution: its S3 object first (so an execution cut short still counts), then
    the failure asked for, if this is one of the step's first `failTimes` executions (the
    job's own count object; the worker may not list the bucket)."""
    if not context.bucket:
        raise Misconfigured("no bucket configured for the steps' marks")
    s3 = client("s3")
    prefix = f"{results_prefix(context.job.tenant_id, context.job.job_id)}runs/{step.name}"
    s3.put_object(Bucket=context.bucket, Key=f"{prefix}/{uuid.uuid4().hex}", Body=b"1")
    executions = _count(context.bucket, f"{prefix}.count") + 1
    s3.put_object(Bucket=context.bucket, Key=f"{prefix}.count", Body=str(executions).encode())
    time.sleep(min(step.seconds, max(0.0, context.remaining_seconds() - 5)))
    if executions <= step.fail_times:
        if step.fail == "fatal":
            raise InvalidInput(f"step {step.name} failing on purpose (execution {executions})", code="demo_fatal")
        raise RetryAfter(0.5, f"step {step.name} failing on purpose (execution {executions})", code="demo_retryable")
    return {"execution": executions}


def _count(bucket: str, key: str) -> int:
    from botocore.exceptions import ClientError

    try:
        return int(client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
    except ClientError as error:
        # Not written yet: NoSuchKey, or AccessDenied from S3 to a role that may not list the bucket.
        if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "AccessDenied", "403"):
            return 0
        raise


def batch_run(context: JobContext[BatchRunInput]) -> FanOut:
    spec = context.input
    return context.fan_out([(child.type, child.input) for child in spec.jobs])


def batch_gather(context: JobContext[BatchRunInput]) -> JobResult:
    """The continuation: every child's outcome, in the order given."""
    outcomes = [child.to_dict() for child in context.children]
    succeeded = sum(1 for child in context.children if child.succeeded)
    return {"jobs": outcomes, "succeeded": succeeded, "failed": len(outcomes) - succeeded}
