"""Bringing your own work, on the running local stack (`courier dev up`): a job that calls
your app, a batch that fans out and in, and the trends worker reading pages on loopback
with the AI router on a fake model server. (Cron schedules: tests/e2e/test_devstack.py;
a worker of your own: tests/e2e/test_scaffold.py.)"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from devstack.model_server import ModelServer, Step
from tests.e2e.conftest import DevStack, running_stack, with_models
from tests.support.models import catalog_override
from tests.support.receiver import Answer, Receiver


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, models: ModelServer) -> Iterator[DevStack]:
    with with_models(models.url, catalog_override(models.url)), running_stack(tmp_path_factory, backoff_scale=0.002) as running:
        yield running


@pytest.fixture(scope="module")
def app() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


def test_a_job_calls_your_app_on_an_allowed_host(stack: DevStack, app: Receiver) -> None:
    refused = stack.api.post("/v1/jobs", json={"type": "http.request", "input": {"url": app.url("/nightly")}})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "host_not_allowed"
    assert stack.api.put("/v1/allowed-hosts", json={"hosts": ["127.0.0.1"]}).status_code == 200
    app.script("/nightly", Answer(429, {"Retry-After": "1"}, b"later"), Answer(200, {"Content-Type": "application/json"}, b'{"synced": 3}'))
    job = stack.submit("http.request", {"url": app.url("/nightly"), "json": {"job": "sync"}})
    done = stack.finished(job["jobId"])
    assert done["status"] == "succeeded" and done["result"]["json"] == {"synced": 3} and done["result"]["tries"] == 2


def test_a_batch_fans_out_and_gathers_on_the_local_stack(stack: DevStack) -> None:
    children = [{"type": "text.hash", "input": {"text": "x" * n}} for n in range(1, 9)]
    job = stack.submit("batch.run", {"jobs": children})
    done = stack.finished(job["jobId"])
    assert done["status"] == "succeeded" and done["result"]["succeeded"] == 8
    assert [j["result"]["length"] for j in done["result"]["jobs"]] == list(range(1, 9))
    assert {c["status"] for c in done["children"]} == {"succeeded"}


def test_the_trends_worker_digests_pages(stack: DevStack, app: Receiver, models: ModelServer) -> None:
    app.script("/robots.txt", *[Answer(404, {}, b"")] * 4)
    for path, title in (("/a", "Rust in the kernel"), ("/b", "Kernel maintainers adopt Rust")):
        app.script(path, Answer(200, {"Content-Type": "text/html"}, f"<html><title>{title}</title><body><article><h1>{title}</h1>"
                                      f"<p>{title}: drivers written in Rust are merged upstream this cycle, maintainers say.</p>"
                                      "</article></body></html>".encode()))
    report = {"topics": [{"name": "Rust in Linux", "summary": "Drivers in Rust are merged.", "sources": [1, 2]}], "trends": []}
    models.script("DeepSeek-V3-0324", Step(content=json.dumps(report)))
    job = stack.submit("web.digest", {"urls": [app.url("/a"), app.url("/b")]})
    done = stack.finished(job["jobId"], timeout=90)
    assert done["status"] == "succeeded", done
    assert done["result"]["topics"] == report["topics"]
    assert [s["title"] for s in done["result"]["sources"]] == ["Rust in the kernel", "Kernel maintainers adopt Rust"]
