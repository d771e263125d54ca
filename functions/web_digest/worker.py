"""The web_digest worker's catalogue entry: its sizing and its job types.

The catalogue (courier.jobs.catalog) gathers this file: the jobs API validates web.digest
and web.page with their input models, CDK deploys the worker with this sizing, the local
stack runs it. Scaffolded by `courier new worker web_digest --type web.digest`.
"""

from __future__ import annotations

from courier.jobs import JobType, Worker
from functions.web_digest.inputs import WebDigestInput, WebPageInput
from functions.web_digest.outputs import WebDigestResult, WebPageResult

WORKER = Worker(
    name="web_digest",
    memory_mb=1024,
    timeout_seconds=300,
    max_concurrency=10,
    # Third-party packages: functions/web_digest/requirements.txt (`make lock` pins them).
    layers=("deps", "web_digest-deps"),
    calls_models=True,
)

JOB_TYPES = (
    JobType("web.digest", "web_digest", WebDigestInput, "functions.web_digest.jobs:digest",
            continuation="functions.web_digest.jobs:summarize", result=WebDigestResult,
            summary="topics and trends across web pages, with sources (a child per page, then the AI router)"),
    JobType("web.page", "web_digest", WebPageInput, "functions.web_digest.jobs:page", result=WebPageResult,
            summary="one page's readable text, fetched politely (robots.txt, size and time limits)"),
)
