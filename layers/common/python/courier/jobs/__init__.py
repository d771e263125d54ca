"""The job-author API: everything a job type's code needs, from one module.

```python
from courier.jobs import JobContext, JobInput, JobResult, JobType, NonRetryable, Worker

class ReportInput(JobInput):
    account: str

def build(context: JobContext[ReportInput]) -> JobResult:
    return {"account": context.input.account}
```

A worker folder's `worker.py` declares its `Worker` and `JobType`s, `inputs.py` its
`JobInput` models, `outputs.py` its `JobOutput` models (what a `JobType(result=...)` returns,
typed for clients and checked when a run ends), `jobs.py` its functions; a handler returns a result (a JSON object) or
`context.fan_out([...])`, and raises `NonRetryable`, `RetryAfter(seconds)` or any
`CourierError` to say what happens next; every URL a user can aim goes through
`NetworkPolicy` (SSRF-safe). Nothing here imports the catalogue, so the
folders the catalogue gathers can import this.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from courier.errors import CourierError, InvalidInput, NonRetryable, RetryAfter
    from courier.jobs.context import JobContext, JobHandler, JobResult
    from courier.jobs.entries import JobType, Worker
    from courier.jobs.fanout import Child, ChildOutcome, FanOut
    from courier.jobs.inputs import JobInput
    from courier.jobs.models import utc_now
    from courier.jobs.outputs import JobOutput
    from courier.network import NetworkPolicy

#: Where each name lives: a name is imported on first use, so what imports one module of
#: this package (the API key store, a worker's declarations) does not load the rest (a job's
#: context, fan-out and steps) into a cold start that never runs a job.
_HOMES = {
    "CourierError": "courier.errors", "InvalidInput": "courier.errors", "NonRetryable": "courier.errors",
    "RetryAfter": "courier.errors", "JobContext": "courier.jobs.context", "JobHandler": "courier.jobs.context",
    "JobResult": "courier.jobs.context", "JobType": "courier.jobs.entries", "Worker": "courier.jobs.entries",
    "Child": "courier.jobs.fanout", "ChildOutcome": "courier.jobs.fanout", "FanOut": "courier.jobs.fanout",
    "JobInput": "courier.jobs.inputs", "utc_now": "courier.jobs.models", "JobOutput": "courier.jobs.outputs",
    "NetworkPolicy": "courier.network",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


__all__ = [
    "Child", "ChildOutcome", "CourierError", "FanOut", "InvalidInput", "JobContext", "JobHandler", "JobInput",
    "JobOutput", "JobResult", "JobType", "NetworkPolicy", "NonRetryable", "RetryAfter", "Worker", "utc_now",
]
