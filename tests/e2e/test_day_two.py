"""Day two on the local stack: every `courier` command as a user runs it (a subprocess, its
exit code, its --json), the dead-letter queues redriven, and the console in a real Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe
from qstash import QStash

from courier.auth.api_keys import ApiKeyStore
from devstack.qstash.signing import DEV_TOKEN
from tests.e2e.conftest import DevStack, running_stack
from tests.support.receiver import Answer, Receiver
from tests.support.videos import make_clip
from tests.support.waiting import eventually

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    with running_stack(tmp_path_factory, backoff_scale=0.002) as running:
        yield running


def courier(stack: DevStack, *args: str, key: bool = True, dev_dir: str | None = None, as_json: bool = True) -> tuple[int, Any, str]:
    """`courier … --json` against this stack (its folder; the test tenant's key); (exit code, answer, stderr),
    or without `--json` what it prints. AWS is the stack's own local AWS throughout: nothing here may reach another."""
    where = ["--dev-dir", dev_dir or str(stack.settings.directory), *(["--key", stack.key] if key else [])]
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("COURIER_")}, "AWS_ENDPOINT_URL": stack.settings.aws_url,
           "COLUMNS": "200"}
    result = subprocess.run([sys.executable, "-m", "courier_cli.main", *args, *where, *(["--json"] if as_json else [])], cwd=ROOT,
                            capture_output=True, text=True, timeout=120, env=env)
    if not as_json:
        return result.returncode, result.stdout, result.stderr
    answer = json.loads(result.stdout) if result.stdout.strip() else None
    return result.returncode, answer, result.stderr


def error_of(stderr: str) -> dict[str, str]:
    return json.loads(stderr.strip().splitlines()[-1])["error"]


def test_jobs_submit_wait_list_show_retry_cancel(stack: DevStack) -> None:
    code, done, _ = courier(stack, "jobs", "submit", "text.hash", "--input", '{"text": "day two"}', "--wait")
    assert code == 0 and done["status"] == "succeeded" and done["result"]["length"] == 7
    code, dead, _ = courier(stack, "jobs", "submit", "demo.sleep", "--input", '{"failTimes": 4}', "--wait")
    assert code == 3 and dead["status"] == "dead"  # ended, not succeeded
    code, listed, _ = courier(stack, "jobs", "list", "--status", "dead")
    assert code == 0 and dead["jobId"] in [j["jobId"] for j in listed["jobs"]]
    code, shown, _ = courier(stack, "jobs", "show", dead["jobId"])
    assert code == 0 and shown["error"]["code"] == "retries_exhausted"
    code, again, _ = courier(stack, "jobs", "retry", dead["jobId"])
    assert code == 0 and again["status"] == "queued"
    code, after, _ = courier(stack, "jobs", "wait", dead["jobId"], "--interval", "0.2")
    assert code == 0 and after["status"] == "succeeded" and after["attempts"] == 5
    code, later, _ = courier(stack, "jobs", "submit", "text.hash", "--input", '{"text": "later"}', "--delay", "600")
    code, waited, _ = courier(stack, "jobs", "wait", later["jobId"], "--timeout", "1", "--interval", "0.2")
    assert code == 4 and waited["status"] == "queued"  # gave up waiting
    code, cancelled, _ = courier(stack, "jobs", "cancel", later["jobId"])
    assert code == 0 and cancelled["status"] == "cancelled"
    code, _, stderr = courier(stack, "jobs", "cancel", later["jobId"])
    assert code == 1 and error_of(stderr)["code"] == "not_cancellable"
    code, _, stderr = courier(stack, "jobs", "show", "job_nope")
    assert code == 1 and error_of(stderr)["code"] == "not_found"
    code, _, stderr = courier(stack, "jobs", "submit", "text.hash", "--input", "{not json")
    assert code == 2 and error_of(stderr)["code"] == "invalid_input"


def test_a_url_and_a_refused_key_and_the_demo_key_by_default(stack: DevStack) -> None:
    api = stack.state["urls"]["api"]
    code, _, stderr = courier(stack, "jobs", "list", "--url", api, "--key", "ck_not_a_real_key", key=False)
    assert code == 2 and "refused the API key" in error_of(stderr)["message"]
    # No key given: the local stack's own demo key (made on first use, as `make demo` makes it).
    code, listed, _ = courier(stack, "jobs", "list", key=False)
    assert code == 0 and listed == {"jobs": []}  # the demo tenant's, none yet
    assert Path(stack.state["apiKeyFile"]).read_text().startswith("ck_")
    code, _, stderr = courier(stack, "jobs", "list", key=False, dev_dir="/nonexistent")
    assert code == 2 and error_of(stderr)["code"] == "no_deployment"
    assert "not running" in error_of(stderr)["message"] and "no stack Courier-dev" in error_of(stderr)["message"]


def test_the_cli_names_the_tenant_it_acts_as_and_acts_as_another_with_tenant(stack: DevStack) -> None:
    """A user's `acme` jobs, and a CLI that by default uses the local stack's demo key: it says
    whose jobs it lists, and why a job of another tenant is not found."""
    code, mine, _ = courier(stack, "jobs", "submit", "text.hash", "--input", '{"text": "acme"}')
    assert code == 0
    code, printed, _ = courier(stack, "jobs", "list", "--type", "text.hash", key=False, as_json=False)
    assert code == 0 and "no jobs for tenant demo (the local stack's demo key; --tenant or --key to act as another)" in printed, printed
    code, _, stderr = courier(stack, "jobs", "retry", mine["jobId"], key=False)
    assert code == 1 and error_of(stderr)["code"] == "not_found" and "as tenant demo" in error_of(stderr)["message"]
    code, listed, _ = courier(stack, "jobs", "list", "--tenant", "acme", key=False)
    assert code == 0 and mine["jobId"] in [j["jobId"] for j in listed["jobs"]]
    kept = stack.settings.directory / "keys" / "acme"
    first = kept.read_text()
    assert first.startswith("ck_") and kept.stat().st_mode & 0o777 == 0o600
    code, printed, _ = courier(stack, "jobs", "list", "--tenant", "acme", key=False, as_json=False)
    assert code == 0 and "tenant acme" in printed and mine["jobId"] in printed and kept.read_text() == first  # the kept key, again
    code, _, stderr = courier(stack, "jobs", "list", "--tenant", "acme")
    assert code == 2 and "not both" in error_of(stderr)["message"]
    code, _, stderr = courier(stack, "jobs", "list", "--tenant", "no spaces", key=False)
    assert code == 2 and "tenant id" in error_of(stderr)["message"]


def test_schedules_list_show_pause_resume_delete(stack: DevStack) -> None:
    created = stack.api.post("/v1/schedules", json={"cron": "0 4 * * *", "type": "text.hash", "input": {"text": "nightly"}}).json()
    schedule_id = created["scheduleId"]
    code, listed, _ = courier(stack, "schedules", "list")
    assert code == 0 and [s["scheduleId"] for s in listed["schedules"]] == [schedule_id]
    code, paused, _ = courier(stack, "schedules", "pause", schedule_id)
    assert code == 0 and paused["paused"] is True
    code, shown, _ = courier(stack, "schedules", "show", schedule_id)
    assert code == 0 and shown["paused"] is True and shown["lastRuns"] == []
    code, resumed, _ = courier(stack, "schedules", "resume", schedule_id)
    assert code == 0 and resumed["paused"] is False
    code, deleted, _ = courier(stack, "schedules", "delete", schedule_id)
    assert code == 0 and deleted == {"scheduleId": schedule_id, "deleted": True}
    code, _, stderr = courier(stack, "schedules", "show", schedule_id)
    assert code == 1 and error_of(stderr)["code"] == "schedule_not_found"


def test_keys_create_list_revoke_on_the_local_stack(stack: DevStack) -> None:
    code, created, _ = courier(stack, "keys", "create", "--tenant", "initech", "--name", "cli", key=False)
    assert code == 0 and created["apiKey"].startswith("ck_")
    assert httpx.get(stack.state["urls"]["api"] + "/v1/jobs", headers={"Authorization": f"Bearer {created['apiKey']}"}).status_code == 200
    code, listed, _ = courier(stack, "keys", "list", "--tenant", "initech", key=False)
    assert [k["keyId"] for k in listed] == [created["keyId"]] and created["apiKey"] not in json.dumps(listed)
    code, revoked, _ = courier(stack, "keys", "revoke", created["keyId"], key=False)
    assert code == 0 and revoked["revoked"] is True


def test_dlq_redrive_sends_back_only_what_has_not_finished(stack: DevStack) -> None:
    resources = stack.state["resources"]
    sqs = stack.client("sqs")
    letter = lambda job: json.dumps({"jobId": job["jobId"], "type": job["type"]})  # noqa: E731
    # Lost on SQS: a queued job's only message (its QStash one is ten minutes away).
    lost = stack.api.post("/v1/jobs", json={"type": "text.hash", "input": {"text": "lost"}, "delaySeconds": 600}).json() | {"type": "text.hash"}
    finished = stack.finished(stack.submit("text.hash", {"text": "done already"})["jobId"])
    sqs.send_message(QueueUrl=resources["deadLetterQueues"]["ai_router"], MessageBody=letter(lost))
    sqs.send_message(QueueUrl=resources["deadLetterQueues"]["ai_router"], MessageBody=letter(finished))
    # Given up by QStash: an unfinished job's delivery to a destination that failed then.
    later = stack.api.post("/v1/jobs", json={"type": "text.hash", "input": {"text": "q"}, "delaySeconds": 600}).json() | {"type": "text.hash"}
    with Receiver() as destination:
        destination.script("/hook", Answer(500))
        qstash = QStash(DEV_TOKEN, base_url=stack.state["urls"]["qstash"])
        qstash.message.publish(url=destination.url("/hook"), body=letter(later), retries=0)
        destination.wait_count("/hook", 1)
        eventually(lambda: any(later["jobId"] in (m.body or "") for m in qstash.dlq.list().messages), what="QStash's letter in its dead-letter queue")
        code, before, _ = courier(stack, "dlq", "list", key=False)
        assert code == 0 and before["dryRun"] is True
        actions = {(v["source"], v["jobId"]): v["action"] for v in before["letters"]}
        assert actions[("sqs:AiRouter", lost["jobId"])] == "redrive" and actions[("sqs:AiRouter", finished["jobId"])] == "skip"
        assert actions[("qstash", later["jobId"])] == "redrive"
        code, redriven, _ = courier(stack, "dlq", "redrive", key=False)
        assert code == 0 and redriven["redriven"] == 2 and redriven["failed"] == 0
        assert stack.finished(lost["jobId"], timeout=30)["status"] == "succeeded"  # the SQS worker ran it
        assert [r.body.decode() for r in destination.wait_count("/hook", 2)][-1] == letter(later)  # QStash delivered it again
    code, after, _ = courier(stack, "dlq", "list", key=False)
    left = {(v["source"], v["jobId"]) for v in after["letters"]}
    assert ("sqs:AiRouter", finished["jobId"]) in left and ("sqs:AiRouter", lost["jobId"]) not in left
    assert ("qstash", later["jobId"]) not in left
    code, dropped, _ = courier(stack, "dlq", "redrive", "--drop-finished", "--no-qstash", key=False)
    assert code == 0 and dropped["dropped"] >= 1
    assert not [v for v in courier(stack, "dlq", "list", "--no-qstash", key=False)[1]["letters"]]


VIDEO: dict[str, str] = {}


def test_video_analyze_remote_uploads_runs_and_downloads_the_keyframes(stack: DevStack, tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "remote.mp4", shots=[1.0, 1.0, 1.0])
    code, job, _ = courier(stack, "video", "analyze", str(clip.path), "--remote", "--max-keyframes", "4", "--out", str(tmp_path / "frames"))
    assert code == 0 and job["status"] == "succeeded" and [c["time"] for c in job["result"]["cuts"]] == clip.cuts
    saved = [Path(p) for p in job["saved"]]
    assert [p.name for p in saved] == [k["image"].rsplit("/", 1)[-1] for k in job["result"]["keyframes"]] and len(saved) == 3
    assert all(p.read_bytes()[:2] == b"\xff\xd8" for p in saved)
    VIDEO["jobId"] = job["jobId"]  # the console shows this one
    code, _, stderr = courier(stack, "video", "analyze", str(tmp_path / "notes.txt"), "--remote")
    assert code == 2 and error_of(stderr)["code"] == "no_such_file"


def upload_video(stack: DevStack, tmp_path: Path) -> str:
    clip = make_clip(tmp_path / "console.mp4", shots=[1.0, 1.0, 1.0])
    data = clip.path.read_bytes()
    ticket = stack.api.post("/v1/uploads", json={"contentType": "video/mp4", "sizeBytes": len(data), "filename": "console.mp4"}).json()
    assert httpx.put(ticket["uploadUrl"], content=data, headers=ticket["headers"]).status_code == 200
    job = stack.finished(stack.submit("video.analyze", {"videoKey": ticket["key"], "options": {"maxKeyframes": 4}})["jobId"])
    assert job["status"] == "succeeded" and len(job["result"]["keyframes"]) == 3
    return str(job["jobId"])


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium here: `make test` installs Debian's chromium where apt is available")
def test_the_console_in_chromium_signs_in_shows_thumbnails_and_retries_a_dead_job(stack: DevStack, tmp_path: Path) -> None:
    video = VIDEO.get("jobId") or upload_video(stack, tmp_path)
    dead = stack.finished(stack.submit("demo.sleep", {"failTimes": 4})["jobId"])
    assert dead["status"] == "dead"
    narrow_dead = stack.finished(stack.submit("demo.sleep", {"failTimes": 4, "fail": "fatal"})["jobId"])
    batch = stack.finished(stack.submit("batch.run", {"jobs": [{"type": "text.hash", "input": {"text": t}} for t in ("a", "b")]})["jobId"])
    assert narrow_dead["status"] in ("dead", "failed") and batch["status"] == "succeeded"
    nightly = stack.api.post("/v1/schedules", json={"cron": "30 2 * * *", "type": "text.hash", "input": {"text": "n"}, "timezone": "Europe/Berlin"})
    empty_key = ApiKeyStore(stack.state["resources"]["table"], client=stack.client("dynamodb")).create("console-empty", "console")[1]
    source = stack.api.post("/v1/sources", json={"name": "payments", "provider": "stripe", "secret": "whsec_console",
                                                 "target": {"type": "text.hash", "input": {"text": "{{webhook.deliveryId}}"}}}).json()
    event = json.dumps({"id": "evt_console", "type": "invoice.paid"})
    for secret, status in (("whsec_console", 200), ("whsec_forged", 401)):
        header = stripe.WebhookSignature.generate_signature_header(event, secret)
        sent = httpx.post(source["url"], content=event, headers={"Content-Type": "application/json", "Stripe-Signature": header})
        assert sent.status_code == status, sent.text
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot, narrow_screenshot = ARTIFACTS / "console.png", ARTIFACTS / "console-390.png"
    screenshot.unlink(missing_ok=True)
    narrow_screenshot.unlink(missing_ok=True)
    env = {**os.environ, "CONSOLE_URL": stack.state["urls"]["api"] + "/console", "API_KEY": stack.key, "EMPTY_KEY": empty_key,
           "VIDEO_JOB": video, "DEAD_JOB": dead["jobId"], "NARROW_DEAD_JOB": narrow_dead["jobId"], "BATCH_JOB": batch["jobId"],
           "SOURCE": source["sourceId"], "SCREENSHOT": str(screenshot), "NARROW_SCREENSHOT": str(narrow_screenshot), "CHROMIUM": str(CHROMIUM)}
    run = subprocess.run(["node", str(ROOT / "tests" / "e2e" / "browser" / "console.mjs")], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=180)
    seen = json.loads(run.stdout.strip().splitlines()[-1]) if run.stdout.strip() else {}
    assert run.returncode == 0, f"{run.stderr}\n{seen}"
    assert seen["steps"] == ["refused key", "signed in", "retry clicked", "dead job succeeded", "thumbnails shown", "children shown",
                             "schedule paused", "deliveries shown", "screenshot", "narrow", "first-job hint"]
    assert "refused" in seen["refusedKeyMessage"]
    assert seen["tenant"] == "tenant acme" and seen["emptyTenant"] == "tenant console-empty"
    assert "queued again" in seen["retryInfo"]  # a retried dead job leaves its list with a word
    assert -1 <= seen["detailTop"] < seen["viewportHeight"] / 2  # the detail opens where the eye is (to a subpixel)
    shown = stack.job(video)["result"]  # the summary says what the result holds
    assert seen["summary"]["cuts"].startswith(f"{len(shown['cuts'])}: ") and seen["summary"]["shots"].startswith(str(len(shown["shots"])))
    assert seen["summary"]["keyframes"] == str(len(shown["keyframes"])) and "hook score" in seen["summary"]
    assert all(t["shownHeight"] >= 180 for t in seen["thumbnails"]), seen["thumbnails"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", seen["createdCell"]) and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:30:00", seen["nextRunCell"])
    assert len(seen["children"]) == 2 and all("text.hash" in c and "succeeded" in c for c in seen["children"])
    assert "paused" in seen["scheduleInfo"] and stack.api.get(f"/v1/schedules/{nightly.json()['scheduleId']}").json()["paused"] is True
    assert seen["narrow"]["pageWidth"] <= 390 and seen["narrow"]["retryRight"] <= 390 and seen["narrow"]["jobsTableRight"] <= 390, seen["narrow"]
    assert "curl -X POST" in seen["firstJobHint"] and "/v1/jobs" in seen["firstJobHint"]
    assert seen["deadJobAfterRetry"] == "succeeded" and seen["deadListAfterRetry"] == 0
    assert stack.job(dead["jobId"])["status"] == "succeeded"
    assert len(seen["thumbnails"]) == 3 and all(t["width"] > 0 and "X-Amz-Signature" in t["src"] for t in seen["thumbnails"])
    assert seen["detailStatus"] == "succeeded" and "jobs" in seen["usage"]
    assert seen["schedules"] == [nightly.json()["scheduleId"]]
    assert seen["deliveries"] == ["refused", "accepted"] and seen["sourceUrl"] == source["url"]  # newest first
    assert seen["cspViolations"] == [] and seen["consoleErrors"] == []
    # The key: in this tab's sessionStorage, never in a URL, a request's URL or a log.
    assert seen["keyInSessionStorage"] and not seen["keyInLocalStorage"]
    assert seen["requestsWithKey"] == [] and stack.key not in seen["pageUrl"]
    logs = "".join(p.read_text(errors="replace") for p in Path(stack.state["logs"]).glob("*.log"))
    assert stack.key not in logs
    assert screenshot.read_bytes()[:8] == narrow_screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_dev_up_status_and_env_answer_json_too(stack: DevStack) -> None:
    where = ["--dir", str(stack.settings.directory), "--port-base", str(stack.settings.port_base), "--json"]
    answers = {}
    for command in ("up", "status", "env"):  # up: the running stack is left as it is
        result = subprocess.run([sys.executable, "-m", "courier_cli.main", "dev", command, *where], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        answers[command] = json.loads(result.stdout)
    assert answers["up"]["running"] and answers["up"]["pid"] == answers["status"]["pid"] == stack.state["pid"]
    assert answers["env"]["AWS_ENDPOINT_URL"] == stack.settings.aws_url and answers["env"]["COURIER_STACK"] == "Courier-local"
