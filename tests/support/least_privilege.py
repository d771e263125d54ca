"""Least privilege, checked by running: every AWS call a local function made (the local
stack's audit log, devstack.aws_audit) against that function's role in the template
`cdk synth` writes for the same stage, evaluated by a real IAM policy evaluator
(@cloud-copilot/iam-simulate, tests/support/iam_simulate.mjs).

The template's ARNs are CloudFormation expressions (`Fn::GetAtt [StorageJobs…, Arn]`);
they are resolved to the local stack's own resources: the one table, the data bucket, each
worker's queue and dead-letter queue (by their construct ids), and names CDK writes as
they are (secrets, parameters). What this cannot check: calls made outside a function
(the CLI, the test harness), resource policies (the bucket's TLS-only policy), KMS, and
the integration suite, whose functions share one process and one key.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from devstack.aws_audit import ACCOUNT, REGION

ROOT = Path(__file__).resolve().parents[2]
SIMULATOR = Path(__file__).with_name("iam_simulate.mjs")
Policies = dict[str, list[dict[str, Any]]]


@functools.cache
def local_template(stage: str = "local") -> dict[str, Any]:
    """The template `cdk synth -c stage=<stage>` writes (no bundling: the policies are the same)."""
    from aws_cdk import assertions

    from infra.app_factory import build_app

    app, stack = build_app({"aws:cdk:bundling-stacks": [], "stage": stage}, outdir=tempfile.mkdtemp(prefix="cdk-iam-"))
    app.synth()
    return dict(assertions.Template.from_stack(stack).to_json())


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def physical_arns(template: dict[str, Any], resources: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Logical id -> {"Arn", "Ref"} of the local resource it stands for."""
    queue_name = lambda url: url.rstrip("/").rpartition("/")[2]  # noqa: E731
    arns: dict[str, dict[str, str]] = {}
    for logical_id, resource in template["Resources"].items():
        kind = resource["Type"]
        if kind == "AWS::DynamoDB::Table":
            table = resources["table"]
            arns[logical_id] = {"Arn": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}", "Ref": table}
        elif kind == "AWS::S3::Bucket":
            bucket = resources["bucket"] if logical_id.startswith("StorageData") else f"unused-{logical_id.lower()}"
            arns[logical_id] = {"Arn": f"arn:aws:s3:::{bucket}", "Ref": bucket}
        elif kind == "AWS::SQS::Queue":
            for worker, url in resources["queues"].items():
                if logical_id.startswith(_pascal(worker) + "DeadLetterQueue"):
                    url = resources["deadLetterQueues"][worker]
                elif not logical_id.startswith(_pascal(worker) + "Queue"):
                    continue
                arns[logical_id] = {"Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue_name(url)}", "Ref": url}
        elif kind == "AWS::KMS::Key" and resources.get("sourcesKey"):  # its id generalised as the calls' are
            arns[logical_id] = {"Arn": _generalised(resources["sourcesKey"]), "Ref": _generalised(resources["sourcesKey"].rpartition("/")[2])}
    return arns


def resolve(value: Any, arns: dict[str, dict[str, str]]) -> Any:
    """A template value with its intrinsics worked out for the local stack."""
    if isinstance(value, list):
        return [resolve(v, arns) for v in value]
    if not isinstance(value, dict):
        return value
    if "Ref" in value:
        pseudo = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::URLSuffix": "amazonaws.com"}
        name = value["Ref"]
        return pseudo.get(name) or arns.get(name, {}).get("Ref", f"unresolved-{name}")
    if "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        return arns.get(logical_id, {}).get(attribute, f"arn:aws:unresolved:::{logical_id}/{attribute}")
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(str(resolve(p, arns)) for p in parts)
    return {k: resolve(v, arns) for k, v in value.items()}


def role_policies(template: dict[str, Any], arns: dict[str, dict[str, str]]) -> Policies:
    """Each function's identity policies (by its POWERTOOLS_SERVICE_NAME, the function's name)."""
    resources = template["Resources"]
    by_role: dict[str, list[dict[str, Any]]] = {}
    for resource in resources.values():
        if resource["Type"] == "AWS::IAM::Policy":
            for role in resource["Properties"].get("Roles", []):
                by_role.setdefault(role["Ref"], []).append(resolve(resource["Properties"]["PolicyDocument"], arns))
    for logical_id, resource in resources.items():
        if resource["Type"] == "AWS::IAM::Role":
            for inline in resource["Properties"].get("Policies", []):
                by_role.setdefault(logical_id, []).append(resolve(inline["PolicyDocument"], arns))
    policies: Policies = {}
    for resource in resources.values():
        if resource["Type"] == "AWS::Lambda::Function":
            name = resource["Properties"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
            policies[name] = by_role.get(resource["Properties"]["Role"]["Fn::GetAtt"][0], [])
    return policies


def key_policies(template: dict[str, Any], arns: dict[str, dict[str, str]]) -> dict[str, dict[str, Any]]:
    """Each KMS key's own policy, by the key's ARN: KMS decides on it and the caller's role
    together (a role's grant alone does not open a key)."""
    return {arns[logical_id]["Arn"]: resolve(resource["Properties"]["KeyPolicy"], arns)
            for logical_id, resource in template["Resources"].items() if resource["Type"] == "AWS::KMS::Key" and logical_id in arns}


def recorded_calls(log: Path) -> list[dict[str, Any]]:
    """The distinct calls in an audit log (a burst repeats the same few thousands of times)."""
    if not log.exists():
        return []
    seen: dict[str, dict[str, Any]] = {}
    for line in log.read_text().splitlines():
        call = json.loads(line)
        call["resource"] = _generalised(call["resource"])
        seen.setdefault(json.dumps(call, sort_keys=True), call)
    return list(seen.values())


_JOB_ID = re.compile(r"(job|key|sched)_[0-9a-f]{8,}")
_UUID = re.compile(r"[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _generalised(resource: str) -> str:
    """An object key with its job ids and uuids as placeholders: the same grant decides."""
    return _UUID.sub("u", _JOB_ID.sub(r"\1_x", resource))


def evaluate(policies: Policies, calls: Iterable[dict[str, Any]], resource_policies: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Each call with the evaluator's decision (`resource_policies`: a resource's own policy, by its ARN)."""
    requests = list(calls)
    if not requests:
        return []
    result = subprocess.run(
        ["node", str(SIMULATOR)], input=json.dumps({"policies": policies, "requests": requests, "resourcePolicies": resource_policies or {}}),
        capture_output=True, text=True, cwd=ROOT, timeout=300, check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"the IAM simulator failed: {result.stderr[-2000:]}")
    return list(json.loads(result.stdout))


def denials(log: Path, resources: dict[str, Any], *, policies: Policies | None = None) -> list[str]:
    """Every recorded call its function's role would not allow, said plainly."""
    template = local_template()
    arns = physical_arns(template, resources)
    if policies is None:
        policies = role_policies(template, arns)
    refused = [d for d in evaluate(policies, recorded_calls(log), key_policies(template, arns)) if d["decision"] != "Allowed"]
    return [
        f"{d['function']} needs {d['action']} on {d['resource']}"
        + (f" with {d['context']}" if d.get("context") else "") + f" ({d['decision']}{': ' + str(d.get('errors')) if d.get('errors') else ''})"
        for d in refused
    ]
