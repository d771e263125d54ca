"""End to end on the running local stack: the demo, a hundred jobs at once, a worker
killed mid-job, a poison job, `courier doctor`, a cron schedule, and QStash down. The
schedule is made first and checked near the end, so its first firing (the next minute:
the local QStash server keeps real time) comes while the other tests run. The QStash test
comes last: it stops the QStash server for good."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from courier.auth.api_keys import ApiKeyStore
from courier.jobs.dispatch import QSTASH_RETRIES
from courier.jobs.limits import CACHE_SECONDS as LIMITS_CACHE_SECONDS
from devstack.supervisor import ROOT, http_ok
from tests.e2e.conftest import DevStack, logs
from tests.support.jobs import FINISHED, wait_for_job
from tests.support.waiting import eventually


def dev(stack: DevStack, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "devstack.cli", *args, "--dir", str(stack.settings.directory), "--port-base", str(stack.settings.port_base)]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)


SCHEDULE: dict[str, str] = {}


def test_a_cron_schedule_is_created_with_its_next_run(devstack: DevStack) -> None:
    response = devstack.api.post("/v1/schedules", json={"cron": "* * * * *", "type": "text.hash", "input": {"text": "tick"}})
    assert response.status_code == 201, response.text
    SCHEDULE.update(response.json())
    assert SCHEDULE["nextRunAt"].endswith(":00Z")


def test_status_json_gives_every_endpoint_and_up_is_idempotent(devstack: DevStack) -> None:
    status = json.loads(dev(devstack, "status", "--json").stdout)
    urls = status["urls"]
    assert set(urls["functionUrls"]) == {w.name for w in devstack.settings.config.workers} >= {"video_processor", "ai_router", "web_digest"}
    for url in (urls["api"] + "/healthz", urls["docs"], urls["aws"] + "/moto-api/", urls["qstash"] + "/v2/topics"):
        assert http_ok(url), url
    assert all(status["health"].values()) and all(p["alive"] for p in status["processes"].values())
    assert status["apiKeyFile"].endswith("demo-api-key")
    assert f"demo key     {status['apiKeyFile']}   (tenant demo" in dev(devstack, "status").stdout  # plain status says where the key is
    before = devstack.state["processes"]
    again = dev(devstack, "up")
    assert again.returncode == 0 and devstack.state["processes"] == before  # nothing started twice


def test_routes_and_environment_are_the_deployed_ones(devstack: DevStack) -> None:
    # The gateway routes by the stack's route table; Function URLs reach the workers.
    assert devstack.api.get("/v1/models").status_code == 200  # ai_router, through the HTTP API
    assert devstack.api.get("/v1/nothing").status_code == 404
    unsigned = devstack.api.post(devstack.state["urls"]["functionUrls"]["ai_router"], json={"jobId": "x", "type": "text.hash"})
    assert unsigned.status_code == 401 and unsigned.json()["error"]["code"] == "invalid_signature"
    assert "REPORT RequestId" in logs(devstack, "ai_router") and "INIT ai_router" in logs(devstack, "ai_router")


def test_the_demo_runs_a_video_end_to_end(devstack: DevStack, tmp_path: Path) -> None:
    out = tmp_path / "out"
    demo = subprocess.run(
        [sys.executable, "-m", "devstack.demo", "--dir", str(devstack.settings.directory), "--port-base", str(devstack.settings.port_base),
         "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "cuts      2.50s, 4.00s, 7.00s, 9.00s   (made at 2.50s, 4.00s, 7.00s, 9.00s)" in demo.stdout
    assert "transport qstash" in demo.stdout
    frames = list(out.glob("job_*/*.jpg"))
    assert len(frames) == 5 and all(f.read_bytes()[:2] == b"\xff\xd8" for f in frames)
    assert Path(devstack.state["apiKeyFile"]).read_text().startswith("ck_")
    assert http_ok(devstack.state["urls"]["api"] + "/healthz")  # the demo leaves a stack it did not start


def test_a_hundred_jobs_at_once_all_succeed_and_none_runs_twice(devstack: DevStack) -> None:
    texts = [f"job number {n}" for n in range(100)]
    with ThreadPoolExecutor(10) as pool:
        accepted = list(pool.map(lambda text: devstack.submit("text.hash", {"text": text}), texts))
    jobs = [devstack.finished(a["jobId"]) for a in accepted]
    assert [j["status"] for j in jobs] == ["succeeded"] * 100
    assert [j["attempts"] for j in jobs] == [1] * 100
    assert [j["result"]["digest"] for j in jobs] == [hashlib.sha256(t.encode()).hexdigest() for t in texts]


def test_a_worker_killed_mid_job_is_retried_and_completes(devstack: DevStack) -> None:
    accepted = devstack.submit("demo.sleep", {"seconds": 1.5})
    devstack.wait_for(accepted["jobId"], lambda j: j["status"] == "running")
    victim = devstack.state["processes"]["ai_router"]
    os.kill(victim, signal.SIGKILL)
    job = devstack.finished(accepted["jobId"])
    assert job["status"] == "succeeded" and job["attempts"] == 2 and job["result"]["attempt"] == 2
    assert devstack.state["processes"]["ai_router"] != victim and devstack.state["restarts"]["ai_router"] >= 1


def test_a_worker_killed_mid_step_runs_that_step_again_and_no_step_before_it(devstack: DevStack) -> None:
    """kill -9 while a step's code runs: the steps that finished keep their results (each ran
    once, counted by the S3 object each execution writes); the interrupted one runs again."""
    accepted = devstack.submit("demo.steps", {"steps": [{"name": "first"}, {"name": "slow", "seconds": 2}, {"name": "last"}]})
    s3, bucket = devstack.client("s3"), devstack.state["resources"]["bucket"]

    def executions(step: str) -> int:
        prefix = f"results/acme/{accepted['jobId']}/runs/{step}/"
        return int(s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("KeyCount", 0))

    eventually(lambda: executions("slow") == 1, timeout=30, what="the slow step started")
    victim = devstack.state["processes"]["ai_router"]
    os.kill(victim, signal.SIGKILL)
    job = devstack.finished(accepted["jobId"])
    assert job["status"] == "succeeded", job
    assert [executions(s) for s in ("first", "slow", "last")] == [1, 2, 1]
    assert [s["attempts"] for s in job["steps"]] == [1, 1, 1]  # the killed execution never recorded an attempt


def test_a_poison_job_ends_dead_and_is_visible_through_the_api(devstack: DevStack) -> None:
    accepted = devstack.submit("demo.sleep", {"failTimes": 100})
    job = devstack.finished(accepted["jobId"])
    assert job["status"] == "dead" and job["error"]["code"] == "retries_exhausted"
    assert "failing on purpose" in job["error"]["message"]
    assert job["attempts"] == QSTASH_RETRIES + 1
    dead = devstack.api.get("/v1/jobs", params={"status": "dead"}).json()["jobs"]
    assert accepted["jobId"] in [j["jobId"] for j in dead]


def doctor(stack: DevStack, *args: str, env: dict[str, str] | None = None, replace: bool = False) -> tuple[int, dict[str, dict]]:
    """`courier doctor … --json` as a user runs it (in `env`, or this one with `env` added); its rows by check."""
    result = subprocess.run(
        [str(Path(sys.executable).parent / "courier"), "doctor", *args, "--json", "--timeout", "20"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env=(env or {}) if replace else {**os.environ, **(env or {})},
    )
    assert result.stdout, result.stderr
    return result.returncode, {row["check"]: row for row in json.loads(result.stdout)}


def test_doctor_finds_the_running_local_stack_by_itself_and_proves_it(devstack: DevStack) -> None:
    """As in a new terminal: no AWS settings, no `eval "$(courier dev env)"`; plainly, and by
    the local stack's name (which the stack's own exports name too)."""
    exported = dev(devstack, "env").stdout  # what `eval "$(courier dev env)"` sets
    env = dict(line.removeprefix("export ").split("=", 1) for line in exported.splitlines())
    assert env["COURIER_STACK"] == "Courier-local" and env["AWS_ENDPOINT_URL"] == devstack.settings.aws_url
    fresh = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "COURIER_"))}
    fresh["COURIER_DEV_DIR"] = str(devstack.settings.directory)
    code, rows = doctor(devstack, "--stack", "Courier-local", env=fresh, replace=True)
    assert code == 0 and rows["stack"]["detail"].startswith("the local stack: "), rows["stack"]
    code, rows = doctor(devstack, env=fresh, replace=True)
    failing = {name: row for name, row in rows.items() if row["status"] not in ("pass", "warn")}
    assert code == 0 and not failing, failing
    for check in ("stack", "config: qstash_signing_keys", "job via QStash", "job via SQS", "upload", "upload read back"):
        assert rows[check]["status"] == "pass", rows[check]
    assert "signature verified" in rows["callback"]["detail"]
    assert rows["router"]["status"] == "warn"  # no model configured locally: said, not failed
    assert "before courier dev up" in rows["router"]["fix"] and "aiFoundryEndpoint" not in rows["router"]["fix"]
    # The temporary key is gone after the run.
    keys = devstack.client("dynamodb").scan(TableName=devstack.state["resources"]["table"])["Items"]
    doctor_keys = [k for k in keys if k["pk"]["S"].startswith("APIKEY#") and k["tenantId"]["S"] == "courier-doctor"]
    assert doctor_keys and all(k["revoked"]["BOOL"] for k in doctor_keys)


def test_doctor_names_a_refused_key_and_stops(devstack: DevStack) -> None:
    code, rows = doctor(devstack, "--url", devstack.state["urls"]["api"], "--key", "ck_not_a_real_key")
    assert code == 1 and rows["auth"]["status"] == "fail" and "job via QStash" not in rows


def test_the_cron_schedule_fired_an_ordinary_job(devstack: DevStack) -> None:
    path = f"/v1/schedules/{SCHEDULE['scheduleId']}"

    def fired() -> bool:
        return any(run["status"] == "succeeded" for run in devstack.api.get(path).json()["lastRuns"])

    eventually(fired, timeout=90, what="a firing of the * * * * * schedule")
    job = devstack.job(devstack.api.get(path).json()["lastRuns"][0]["jobId"])
    assert job["scheduleId"] == SCHEDULE["scheduleId"] and job["type"] == "text.hash" and job["result"]["length"] == 4
    assert devstack.api.delete(path).status_code == 200


def test_a_stack_started_again_is_one_empty_thing_and_its_demo_key_works_at_once(devstack: DevStack) -> None:
    """down and up, then reset: local AWS keeps nothing, so nothing that referred to it
    survives either (the QStash server's schedules would fire for jobs nobody knows, its dead
    letters name gone jobs); the key in the demo key file is the new stack's, with no CLI run."""
    from devstack.qstash.signing import DEV_TOKEN

    def qstash(path: str) -> object:
        return httpx.get(devstack.state["urls"]["qstash"] + path, headers={"Authorization": f"Bearer {DEV_TOKEN}"}, timeout=10).json()

    def me(key: str) -> httpx.Response:
        return httpx.get(devstack.state["urls"]["api"] + "/v1/me", headers={"Authorization": f"Bearer {key}"}, timeout=10)

    made = devstack.api.post("/v1/schedules", json={"cron": "0 3 * * *", "type": "text.hash", "input": {"text": "nightly"}})
    assert made.status_code == 201, made.text
    assert qstash("/v2/schedules") and qstash("/v2/dlq")["messages"]  # the poison job's letter
    tuning = devstack.settings.to_args()  # the module's shorter backoff and lease, as it began
    for restart in ("down", "reset"):
        assert dev(devstack, restart, *(tuning if restart == "reset" else ())).returncode == 0
        if restart == "down":
            assert dev(devstack, "up", *tuning).returncode == 0
        assert qstash("/v2/schedules") == [] and qstash("/v2/dlq")["messages"] == []
        assert me(devstack.key).status_code == 401  # the old stack's key went with it
        assert me(Path(devstack.state["apiKeyFile"]).read_text().strip()).json() == {"tenantId": "demo"}
        assert json.loads(dev(devstack, "status", "--json").stdout)["urls"]["functionUrls"] == devstack.state["urls"]["functionUrls"]
        devstack.api.post("/v1/schedules", json={"cron": "0 3 * * *", "type": "text.hash", "input": {"text": "nightly"}})
    # The module goes on with a key of the new stack's.
    devstack.key = ApiKeyStore(devstack.state["resources"]["table"], client=devstack.client("dynamodb")).create("acme", "e2e")[1]
    devstack.api.headers["Authorization"] = f"Bearer {devstack.key}"
    assert me(devstack.key).json() == {"tenantId": "acme"}


def courier(stack: DevStack, *args: str) -> subprocess.CompletedProcess[str]:
    """The `courier` command as a user runs it, on this test's local stack."""
    return subprocess.run([str(Path(sys.executable).parent / "courier"), *args, "--dev-dir", str(stack.settings.directory)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_flow_pause_holds_every_delivery_of_a_worker_and_resume_drains_them(devstack: DevStack) -> None:
    """`courier flow`: a job's tenant has its own flow-control key on its worker. Pausing the
    worker holds what QStash has (a delayed job whose time comes meanwhile waits on its paused
    key), what goes by SQS (the event source mapping is disabled), and a new tenant's first
    job, which no QStash key could hold yet (it waits in SQS); `flow list` shows both held,
    `tenants` and the job say why, and resuming runs all of them."""
    first = devstack.finished(devstack.api.post("/v1/jobs", json={"type": "text.hash", "input": {"text": "a"}, "transport": "qstash"}).json()["jobId"])
    tenant = devstack.api.get("/v1/me").json()["tenantId"]
    assert first["status"] == "succeeded"
    delayed = devstack.api.post("/v1/jobs", json={"type": "text.hash", "input": {"text": "b"}, "transport": "qstash", "delaySeconds": 8}).json()["jobId"]
    paused = courier(devstack, "flow", "pause", "ai", "--json")  # a unique start of the worker's name will do
    assert paused.returncode == 0, paused.stderr
    shown = json.loads(paused.stdout)
    assert shown["worker"] == "ai_router" and len(shown["eventSourceMappings"]) == 1
    assert any(key.endswith("-ai_router." + tenant) for key in shown["pause"])
    newcomer = {"Authorization": "Bearer " + ApiKeyStore(devstack.state["resources"]["table"], client=devstack.client("dynamodb")).create("newcomer")[1]}
    by_sqs = devstack.api.post("/v1/jobs", json={"type": "text.hash", "input": {"text": "c"}, "transport": "sqs"}).json()["jobId"]
    first_of_tenant = devstack.api.post("/v1/jobs", json={"type": "text.hash", "input": {"text": "d"}}, headers=newcomer).json()
    assert first_of_tenant["transport"] == "sqs", first_of_tenant
    rows: list[dict[str, Any]] = []

    def all_held() -> bool:
        listed = courier(devstack, "flow", "list", "--json")
        assert listed.returncode == 0, listed.stderr
        rows[:] = [r for r in json.loads(listed.stdout)["flows"] if r["worker"] == "ai_router"]
        mine = next((r for r in rows if r["transport"] == "qstash" and r["tenant"] == tenant), {})
        queue = next(r for r in rows if r["transport"] == "sqs")
        return bool(mine) and mine["paused"] and mine["waiting"] == 1 and queue["paused"] and queue["waiting"] == 2

    try:
        # The delayed job counts once it is due (8 s); each `courier` is a process of its own.
        eventually(all_held, timeout=60, what="the paused key and the paused queue holding the jobs")
        assert {devstack.job(j)["status"] for j in (delayed, by_sqs)} == {"queued"}
    finally:  # resumed whatever happened: the stack is shared with the tests after this one
        resumed = courier(devstack, "flow", "resume", "ai_router")
    assert resumed.returncode == 0 and "resumed" in resumed.stdout, resumed.stderr
    for job_id in (delayed, by_sqs):
        assert devstack.finished(job_id)["status"] == "succeeded"
    assert wait_for_job(lambda j: devstack.api.get(f"/v1/jobs/{j}", headers=newcomer).json(), first_of_tenant["jobId"],
                        lambda j: j["status"] in FINISHED, 60)["status"] == "succeeded"
    unknown = courier(devstack, "flow", "pause", "no_such_worker")
    assert unknown.returncode == 2 and "ai_router" in unknown.stderr


def test_a_tenants_concurrency_holds_on_sqs_too(devstack: DevStack) -> None:
    """`courier tenants set` on the running stack: with the demo tenant's concurrency on
    ai_router at 1, three jobs sent by SQS (whose event source runs up to 20 at once) run one
    after another, and all succeed: the others are sent again while the one runs."""
    tenant = devstack.api.get("/v1/me").json()["tenantId"]
    changed = courier(devstack, "tenants", "set", tenant, "--worker", "ai_router", "--concurrency", "1", "--json")
    assert changed.returncode == 0, changed.stderr
    assert json.loads(changed.stdout)["inForce"]["ai_router"]["concurrency"] == 1
    time.sleep(LIMITS_CACHE_SECONDS + 0.5)  # every warm function has read it
    try:
        ids = [devstack.api.post("/v1/jobs", json={"type": "demo.sleep", "input": {"seconds": 1}, "transport": "sqs"}).json()["jobId"]
               for _ in range(3)]
        done = [devstack.finished(job_id, timeout=120) for job_id in ids]
    finally:
        assert courier(devstack, "tenants", "set", tenant, "--worker", "ai_router", "--concurrency", "default").returncode == 0
    assert {job["status"] for job in done} == {"succeeded"}
    runs = sorted((job["startedAt"], job["finishedAt"]) for job in done)
    assert all(later[0] >= earlier[1] for earlier, later in zip(runs, runs[1:], strict=False)), runs


def test_an_instagram_source_made_with_the_cli_takes_metas_handshake_and_deliveries(devstack: DevStack, monkeypatch: pytest.MonkeyPatch) -> None:
    """`courier sources create` on the running stack, then Meta's side of it: the subscription
    handshake, a signed change notification made a job, Meta's retry of it no second job, a
    forged one refused; `courier sources deliveries` lists all three."""
    monkeypatch.setenv("COURIER_SOURCE_SECRET", "instagram-app-secret")
    made = courier(devstack, "sources", "create", "instagram", "--provider", "meta", "--verify-token", "tok-123", "--type", "text.hash",
                   "--input", '{"text": "{{webhook.eventType}}"}', "--key", devstack.key, "--json")
    assert made.returncode == 0, made.stderr
    source = json.loads(made.stdout)
    assert "instagram-app-secret" not in made.stdout
    shake = httpx.get(source["url"], params={"hub.mode": "subscribe", "hub.verify_token": "tok-123", "hub.challenge": "987654"})
    assert shake.status_code == 200 and shake.text == "987654"
    body = b'{"object":"instagram","entry":[{"id":"1","time":2,"changes":[{"field":"mentions","value":{}}]}]}'
    signature = "sha256=" + hmac.new(b"instagram-app-secret", body, hashlib.sha256).hexdigest()
    answers = [httpx.post(source["url"], content=body, headers={"Content-Type": "application/json", "X-Hub-Signature-256": sig})
               for sig in (signature, signature, "sha256=" + "0" * 64)]
    assert [a.status_code for a in answers] == [200, 200, 401]
    assert answers[1].json() == {**answers[0].json(), "duplicate": True}
    job = devstack.finished(answers[0].json()["jobId"])
    assert job["status"] == "succeeded" and job["input"]["text"] == "instagram.mentions"
    listed = courier(devstack, "sources", "deliveries", source["sourceId"], "--key", devstack.key, "--json")
    assert [d["verdict"] for d in json.loads(listed.stdout)["deliveries"]] == ["refused", "duplicate", "accepted"]


def test_with_qstash_stopped_jobs_go_by_sqs_and_complete(devstack: DevStack) -> None:
    os.kill(devstack.state["processes"]["qstash"], signal.SIGKILL)
    eventually(lambda: not http_ok(devstack.state["urls"]["qstash"] + "/v2/keys"), timeout=10, what="QStash gone")
    accepted = devstack.submit("text.hash", {"text": "no qstash"})
    assert accepted["transport"] == "sqs"
    job = devstack.finished(accepted["jobId"])
    assert job["status"] == "succeeded" and job["transport"] == "sqs"
    assert job["fallbackReason"].startswith("QStash: ")  # why, on the job itself
    status = json.loads(dev(devstack, "status", "--json").stdout)
    assert status["processes"]["qstash"]["alive"] is False and status["health"]["qstash"] is False
    # The doctor names the broken part, and only it.
    code, rows = doctor(devstack, "--url", devstack.state["urls"]["api"], "--key", devstack.key)
    failed = {name for name, row in rows.items() if row["status"] == "fail"}
    assert code == 1 and failed == {"config: qstash_signing_keys", "job via QStash"}, rows
    assert rows["job via SQS"]["status"] == rows["upload read back"]["status"] == "pass"


def test_every_call_so_far_is_allowed_and_a_removed_grant_is_named(devstack: DevStack) -> None:
    """The stack's audit log so far (the demo's video, uploads, schedules, fallbacks) against
    the template's roles; then the same log against jobs_api's role with one grant taken
    away: the check names the function and the action it lost."""
    from tests.support.least_privilege import denials, local_template, physical_arns, role_policies

    resources, log = devstack.state["resources"], devstack.settings.aws_audit_log
    template = local_template()
    policies = role_policies(template, physical_arns(template, resources))
    assert denials(log, resources, policies=policies) == []
    stripped = {**policies, "jobs_api": [
        {**document, "Statement": [
            {**s, "Action": [a for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]) if a != "dynamodb:PutItem"]}
            for s in document["Statement"]
        ]} for document in policies["jobs_api"]
    ]}
    refused = denials(log, resources, policies=stripped)
    assert refused and all(r.startswith("jobs_api needs dynamodb:PutItem on arn:aws:dynamodb:") for r in refused), refused
