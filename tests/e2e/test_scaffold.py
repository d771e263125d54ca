"""`courier new worker` in a copy of the repository, as a team would run it: no other edit,
then the unit and worker suites stay green, `cdk synth` gives the worker everything a
worker gets, and the local stack that ran before the worker existed takes it on `courier dev
up`, keeping its jobs, keys and ports, and runs a job of its new type."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import httpx

from courier.auth.api_keys import ApiKeyStore
from devstack.environment import free_port_base
from infra.config import ALARMS_PER_WORKER
from infra.layer_sources import ROOT
from tests.support.jobs import FINISHED, wait_for_job

SYNTH = """
import json, sys
from infra.app_factory import build_app
app, stack = build_app({"aws:cdk:bundling-stacks": []}, outdir=sys.argv[1])
assembly = app.synth()
print(json.dumps(assembly.get_stack_by_name(stack.stack_name).template))
"""


def copy_of_the_repo(destination: Path) -> Path:
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True)
    for name in listed.stdout.splitlines():
        source = ROOT / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


def run(repo: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(repo), str(repo / "layers" / "common" / "python")]),
           "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, *args], cwd=repo, env=env, capture_output=True, text=True, timeout=timeout)


def resources_of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def refers_to(value: Any, logical_id: str) -> bool:
    return logical_id in json.dumps(value)


def test_a_scaffolded_worker_synthesizes_and_joins_the_running_local_stack_which_keeps_its_state(tmp_path: Path) -> None:
    repo = copy_of_the_repo(tmp_path / "repo")
    # The local stack runs before the worker exists, with a job and a key of its own.
    base = free_port_base()
    where = ["--dir", str(tmp_path / "dev"), "--port-base", str(base)]
    up = run(repo, "-m", "courier_cli.main", "dev", "up", *where, timeout=180)
    try:
        assert up.returncode == 0, up.stdout[-2000:] + up.stderr[-2000:]
        scaffold_beside_the_running_stack(repo, tmp_path, base, where)
    finally:
        down = run(repo, "-m", "courier_cli.main", "dev", "down", *where, timeout=120)
        assert down.returncode == 0, down.stderr[-2000:]


def scaffold_beside_the_running_stack(repo: Path, tmp_path: Path, base: int, where: list[str]) -> None:
    before = json.loads((tmp_path / "dev" / "state.json").read_text())
    aws = boto3.client("dynamodb", endpoint_url=f"http://127.0.0.1:{base + 6}")
    key = ApiKeyStore(before["resources"]["table"], client=aws).create("acme", "scaffold")[1]
    api_client = httpx.Client(base_url=before["urls"]["api"], headers={"Authorization": f"Bearer {key}"}, timeout=30)
    earlier = api_client.post("/v1/jobs", json={"type": "text.hash", "input": {"text": "before the worker"}}).json()["jobId"]
    unknown = api_client.post("/v1/jobs", json={"type": "reports.count", "input": {"text": "too soon"}})
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "unknown_job_type"

    made = run(repo, "-m", "courier_cli.main", "new", "worker", "reports", "--type", "reports.count")
    assert made.returncode == 0, made.stderr
    assert {Path(line.split()[-1]).name for line in made.stdout.splitlines() if line.startswith("wrote")} >= {
        "handler.py", "worker.py", "inputs.py", "outputs.py", "jobs.py", "test_reports.py"}
    again = run(repo, "-m", "courier_cli.main", "new", "worker", "reports", "--type", "reports.count")
    assert again.returncode == 2 and "exists already" in again.stderr

    # The whole unit and worker suites pass in the copy, the new worker's own test among them:
    # a new worker leaves `make test` green without another edit.
    tested = run(repo, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/unit", "tests/workers", timeout=600)
    assert tested.returncode == 0, tested.stdout[-3000:]
    assert "tests/workers/test_reports.py" in run(repo, "-m", "pytest", "-q", "--collect-only", "tests/workers").stdout

    # cdk synth: its function, Function URL, queue and DLQ, event source mapping, alarms, own role.
    synth = run(repo, "-c", SYNTH, str(tmp_path / "cdk.out"))
    assert synth.returncode == 0, synth.stderr[-3000:]
    template = json.loads(synth.stdout.splitlines()[-1])
    (function_id,) = [k for k, v in resources_of(template, "AWS::Lambda::Function").items()
                      if v["Properties"].get("Description", "").startswith("Courier reports ")]
    function = template["Resources"][function_id]["Properties"]
    assert function["Environment"]["Variables"]["WORKER_JOB_TYPES"] == "reports.count"
    assert function["MemorySize"] == 512 and function["Timeout"] == 300
    assert any(refers_to(u["Properties"], function_id) for u in resources_of(template, "AWS::Lambda::Url").values())
    mapping = [m for m in resources_of(template, "AWS::Lambda::EventSourceMapping").values() if refers_to(m["Properties"]["FunctionName"], function_id)]
    assert len(mapping) == 1
    queues = {k: v for k, v in resources_of(template, "AWS::SQS::Queue").items() if k.startswith("Reports")}
    assert len(queues) == 2 and any("RedrivePolicy" in q["Properties"] for q in queues.values())
    alarms = [a for a in resources_of(template, "AWS::CloudWatch::Alarm").values() if a["Properties"]["AlarmDescription"].startswith("reports:")]
    assert len(alarms) == ALARMS_PER_WORKER
    assert "Courier-dev" == next(iter(resources_of(template, "AWS::CloudWatch::Dashboard").values()))["Properties"]["DashboardName"]
    assert '"title":"reports: fallback queue"' in json.dumps(resources_of(template, "AWS::CloudWatch::Dashboard")).replace("\\", "")
    role = function["Role"]["Fn::GetAtt"][0]
    policies = [p for p in resources_of(template, "AWS::IAM::Policy").values() if refers_to(p["Properties"]["Roles"], role)]
    statements = [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]
    assert statements and all(s["Resource"] != "*" for s in statements)
    assert not any("MODEL_KEYS" in k for k in function["Environment"]["Variables"])  # it does not call models
    api = next(v["Properties"] for v in resources_of(template, "AWS::Lambda::Function").values()
               if v["Properties"].get("Description", "").startswith("Courier jobs_api "))
    assert "reports.count" in json.dumps(api["Environment"]["Variables"]["COURIER_JOB_TYPES"])

    # courier dev up again: it sees the new folder and reloads; the job, the key and every
    # other worker's Function URL are as they were, and a job of the new type runs.
    again = run(repo, "-m", "courier_cli.main", "dev", "up", *where, timeout=180)
    assert again.returncode == 0 and "new worker reports" in again.stderr, again.stdout[-2000:] + again.stderr[-2000:]
    after = json.loads((tmp_path / "dev" / "state.json").read_text())
    assert after["reloads"] == 1 and after["processes"]["aws"] == before["processes"]["aws"]
    assert {k: v for k, v in after["urls"]["functionUrls"].items() if k != "reports"} == before["urls"]["functionUrls"]
    assert after["urls"]["functionUrls"]["reports"] not in before["urls"]["functionUrls"].values()
    assert f"Function URL {after['urls']['functionUrls']['reports']}   (reports)" in again.stdout
    assert api_client.get(f"/v1/jobs/{earlier}").json()["status"] == "succeeded"
    accepted = api_client.post("/v1/jobs", json={"type": "reports.count", "input": {"text": "three little words"}})
    assert accepted.status_code == 202, accepted.text
    done = wait_for_job(lambda j: api_client.get(f"/v1/jobs/{j}").json(), accepted.json()["jobId"], lambda j: j["status"] in FINISHED, 60)
    assert done["status"] == "succeeded" and done["result"] == {"words": 3, "attempt": 1}, done
    refused = api_client.post("/v1/jobs", json={"type": "reports.count", "input": {}})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "invalid_input"
    unchanged = run(repo, "-m", "courier_cli.main", "dev", "up", *where)
    assert "reloading" not in unchanged.stderr and json.loads((tmp_path / "dev" / "state.json").read_text())["reloads"] == 1
    api_client.close()
