"""The built-in job types, declared here beside their inputs and code; they run on the AI
router's worker (courier.ai.job_types), which is small and always warm enough."""

from __future__ import annotations

from courier.builtin.inputs import BatchRunInput, DemoSleepInput, DemoStepsInput, TextHashInput
from courier.builtin.outputs import BatchRunResult, DemoSleepResult, DemoStepsResult, TextHashResult
from courier.jobs.entries import JobType, Worker

WORKERS: tuple[Worker, ...] = ()

JOB_TYPES: tuple[JobType, ...] = (
    JobType("text.hash", "ai_router", TextHashInput, "courier.builtin.jobs:text_hash",
            result=TextHashResult, upload_fields=("uploadKey",),
            summary="a digest of text or of an upload (tests, doctor)"),
    JobType("demo.sleep", "ai_router", DemoSleepInput, "courier.builtin.jobs:demo_sleep", result=DemoSleepResult,
            summary="waits and fails on purpose (retries, leases, DLQ)"),
    JobType("demo.steps", "ai_router", DemoStepsInput, "courier.builtin.jobs:demo_steps", result=DemoStepsResult,
            summary="a scripted job of durable steps: runs, sleeps and waits for events (steps, wake-ups)"),
    JobType("batch.run", "ai_router", BatchRunInput, "courier.builtin.jobs:batch_run", continuation="courier.builtin.jobs:batch_gather",
            result=BatchRunResult,
            summary="jobs run in parallel as children; the result gathers their outcomes (fan-out, fan-in)"),
)
