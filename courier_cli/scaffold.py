"""`courier new worker NAME --type TYPE`: a worker of your own, in one folder.

Writes `functions/NAME/` (the Lambda handler, the catalogue entry, the input and result
models, the job function) and a test under `tests/workers/`. Nothing else needs an edit: the catalogue
gathers every `functions/*/worker.py`, so the jobs API accepts the type, `cdk synth` gives
the worker its Function URL, queue, DLQ, event source mapping, alarms and role, and
`courier dev up` runs it.
"""

from __future__ import annotations

import argparse
import keyword
import re
from pathlib import Path

from courier_cli.output import OK, USAGE, CliError, Output

NAME = re.compile(r"^[a-z][a-z0-9_]{1,40}$")
JOB_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
#: Folders under functions/ that are Courier's own functions, not workers to scaffold.
RESERVED = frozenset({"jobs_api", "ai_router", "video_processor"})


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    new = commands.add_parser("new", help="scaffold your own code: a worker")
    kinds = new.add_subparsers(dest="kind", required=True)
    worker = kinds.add_parser("worker", help="a worker in functions/NAME, with one job type and a test")
    worker.add_argument("name", help="the worker's folder and function name (snake_case)")
    worker.add_argument("--type", dest="job_type", required=True, help="its first job type, dotted (e.g. reports.build)")
    worker.add_argument("--memory", type=int, default=512, help="MB (default 512)")
    worker.add_argument("--timeout", type=int, default=300, help="seconds (default 300, at most 900)")
    worker.add_argument("--calls-models", action="store_true", help="its jobs call the AI router (gets the model keys)")
    worker.add_argument("--root", type=Path, default=Path("."), help="the Courier repository (default: here)")
    worker.add_argument("--json", action="store_true", help="the files written, as JSON")


def run(args: argparse.Namespace) -> int:
    try:
        written = scaffold(args.root, args.name, args.job_type, memory_mb=args.memory, timeout_seconds=args.timeout,
                           calls_models=args.calls_models)
    except ValueError as error:
        raise CliError("invalid_worker", f"new worker: {error}", USAGE) from None
    following = (f"edit functions/{args.name}/jobs.py, then `make test` and `courier dev up` (a running local stack reloads its "
                 "functions for the new worker and keeps its jobs and keys), or `cdk deploy`")
    lines = [f"wrote {path}" for path in written] + [f"next: {following}"]
    Output(args.json).data({"wrote": [str(p) for p in written], "next": following}, "\n".join(lines))
    return OK


def scaffold(root: Path, name: str, job_type: str, *, memory_mb: int = 512, timeout_seconds: int = 300,
             calls_models: bool = False) -> list[Path]:
    check(root, name, job_type, timeout_seconds)
    stem = "".join(part.capitalize() for part in re.split(r"[._]", job_type))
    values = {"name": name, "type": job_type, "model": stem + "Input", "result": stem + "Result", "memory": str(memory_mb), "timeout": str(timeout_seconds),
              "calls_models": str(calls_models), "settings": "ModelWorkerSettings" if calls_models else "WorkerSettings"}
    files = {
        root / "functions" / name / "__init__.py": "",
        root / "functions" / name / "handler.py": HANDLER,
        root / "functions" / name / "worker.py": WORKER,
        root / "functions" / name / "inputs.py": INPUTS,
        root / "functions" / name / "outputs.py": OUTPUTS,
        root / "functions" / name / "jobs.py": JOBS,
        root / "tests" / "workers" / f"test_{name}.py": TEST,
    }
    package = root / "tests" / "workers" / "__init__.py"
    if not package.exists():
        files[package] = ""
    for path, template in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        text = template
        for key, value in values.items():
            text = text.replace("{{" + key + "}}", value)
        path.write_text(text)
    return sorted(files)


def check(root: Path, name: str, job_type: str, timeout_seconds: int) -> None:
    if not (root / "functions" / "__init__.py").exists():
        raise ValueError(f"{root.resolve()} is not a Courier repository (no functions/__init__.py)")
    if not NAME.match(name) or keyword.iskeyword(name) or name in RESERVED:
        raise ValueError(f"{name!r} cannot be a worker name: use snake_case letters, digits and _, not a Courier function's name")
    if not JOB_TYPE.match(job_type):
        raise ValueError(f"{job_type!r} is not a job type: use dotted lowercase names like reports.build")
    if (root / "functions" / name).exists():
        raise ValueError(f"functions/{name} exists already")
    if not 1 <= timeout_seconds <= 900:
        raise ValueError("--timeout is 1 to 900 seconds (Lambda's limit)")
    taken = set(re.findall(r'JobType\(\s*"([^"]+)"', "".join(p.read_text() for p in _declarations(root))))
    if job_type in taken:
        raise ValueError(f"job type {job_type} is declared already")


def _declarations(root: Path) -> list[Path]:
    return [root / "layers" / "common" / "python" / "courier" / "jobs" / "catalog.py", *sorted((root / "functions").glob("*/worker.py"))]


HANDLER = '''"""{{name}} Lambda: runs its job types (functions/{{name}}/worker.py) delivered by QStash or SQS."""

from __future__ import annotations

from courier import coldstart

coldstart.begin()  # no garbage collection while the modules below load (courier/coldstart.py)

from courier.adapters.worker_handler import queued_worker_handler
from courier.settings import {{settings}}

settings = {{settings}}.from_env()
handler = queued_worker_handler("{{name}}", settings)

coldstart.end()
'''

WORKER = '''"""The {{name}} worker's catalogue entry: its sizing and its job types.

The catalogue (courier.jobs.catalog) gathers this file: the jobs API validates {{type}}
with its input model, CDK deploys the worker with this sizing, the local stack runs it.
"""

from __future__ import annotations

from courier.jobs import JobType, Worker
from functions.{{name}}.inputs import {{model}}
from functions.{{name}}.outputs import {{result}}

WORKER = Worker(
    name="{{name}}",
    memory_mb={{memory}},
    timeout_seconds={{timeout}},
    max_concurrency=10,
    # Third-party packages: list them in functions/{{name}}/requirements.txt, run `make lock`,
    # and add "{{name}}-deps" here.
    layers=("deps",),
    calls_models={{calls_models}},
)

JOB_TYPES = (
    JobType("{{type}}", "{{name}}", {{model}}, "functions.{{name}}.jobs:run", result={{result}},
            summary="counts the words of a text (edit me)"),
)
'''

INPUTS = '''"""What {{type}} accepts: validated when the job is enqueued (a 422 naming the field)
and again when it runs."""

from __future__ import annotations

from pydantic import Field

from courier.jobs import JobInput


class {{model}}(JobInput):
    text: str = Field(min_length=1, max_length=100_000)
'''

OUTPUTS = '''"""What {{type}} returns: the TypeScript client types a job's result by it (`make
client-types`), and a run that returns another shape fails with invalid_result."""

from __future__ import annotations

from courier.jobs import JobOutput


class {{result}}(JobOutput):
    words: int
    attempt: int
'''

JOBS = '''"""The {{name}} worker's job functions: a JobContext typed by the input model in, a JSON
object (at most 64 KB inline, up to the bucket's limits beyond) out.

Raise NonRetryable when trying again cannot help, RetryAfter(seconds) to be delivered
again later; any other failure is retried by the queue, a bounded number of times.
"""

from __future__ import annotations

from courier.jobs import JobContext, JobResult
from functions.{{name}}.inputs import {{model}}


def run(context: JobContext[{{model}}]) -> JobResult:
    spec = context.input
    context.progress("counting", 0.0)
    words = spec.text.split()
    context.logger.info("counted", extra={"words": len(words)})
    context.progress("counting", 1.0)
    return {"words": len(words), "attempt": context.attempt}
'''

TEST = '''"""The {{name}} worker: its catalogue entry and its job function, without AWS."""

from __future__ import annotations

from typing import Any

from courier.jobs import JobContext, catalog
from courier.jobs.models import Job, JobStatus, utc_now
from courier.jobs.registry import JobRegistry


def context_for(data: dict[str, object]) -> JobContext[Any]:
    now = utc_now()
    job = Job("job_test", "acme", "{{type}}", JobStatus.RUNNING, dict(data), now, now, attempts=1)
    return JobContext(job=job, input=catalog.load().validate_input("{{type}}", data), bucket=None)


def test_the_catalogue_routes_the_type_to_this_worker() -> None:
    catalog.load().check()
    assert "{{type}}" in JobRegistry.for_worker("{{name}}").job_types


def test_the_job_counts_words() -> None:
    context = context_for({"text": "one two three"})
    assert JobRegistry.for_worker("{{name}}").handler_for("{{type}}")(context) == {"words": 3, "attempt": 1}
'''
