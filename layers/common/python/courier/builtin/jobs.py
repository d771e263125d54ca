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
from courier.builtin.inputs import BatchRunInput, DemoSleepInput, TextHashInput
from courier.errors import CourierError, InvalidInput, Misconfigured
from courier.jobs import JobContext, JobResult
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


def batch_run(context: JobContext[BatchRunInput]) -> FanOut:
    spec = context.input
    return context.fan_out([(child.type, child.input) for child in spec.jobs])


def batch_gather(context: JobContext[BatchRunInput]) -> JobResult:
    """The continuation: every child's outcome, in the order given."""
    outcomes = [child.to_dict() for child in context.children]
    succeeded = sum(1 for child in context.children if child.succeeded)
    return {"jobs": outcomes, "succeeded": succeeded, "failed": len(outcomes) - succeeded}
