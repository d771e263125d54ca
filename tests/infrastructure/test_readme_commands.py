"""README's deploy and key commands, run as written up to the first call that needs a real
AWS account, from a shell whose PATH has no venv: a line that would fail a user fails here.

`npx cdk …` runs the pinned CLI for real (synthesis with bundling, no Docker) and must get as
far as resolving the account, having written the cloud assembly a deploy would upload;
`aws secretsmanager create-secret` has no AWS CLI here, so its arguments are checked against
what the stack reads and then sent to local AWS as the CLI would send them; `courier …` runs
against local AWS (moto).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import boto3

from devstack.aws_resources import create_resources
from devstack.environment import DevSettings, register_stack
from infra.config import CONTEXT_KEYS, CourierConfig
from infra.layer_sources import DEPENDENCY_LAYERS, ROOT
from tests.infrastructure.conftest import assert_every_finding_acknowledged

README = ROOT / "README.md"
ASSEMBLY = ROOT / "cdk.out"  # where `npx cdk deploy` writes what it would upload
AARCH64 = 183  # ELF e_machine of arm64


def commands(section: str) -> list[list[str]]:
    """The command lines of the first ```bash block under a `## section` heading."""
    text = README.read_text()
    body = text[text.index(f"## {section}\n"):]
    block = re.search(r"```bash\n(.*?)```", body, re.S)
    assert block, f"no bash block under {section}"
    lines = block.group(1).replace("\\\n", " ").splitlines()
    return [shlex.split(line, comments=True) for line in lines if line.strip()]


def user_shell(tmp_path: Path) -> dict[str, str]:
    """A workstation shell: node and git on PATH, no venv, AWS credentials that reach nothing."""
    tools = {str(Path(shutil.which(tool) or f"/usr/bin/{tool}").parent) for tool in ("node", "npx", "make", "git")}
    return {
        "PATH": os.pathsep.join([*sorted(tools), "/usr/bin", "/bin"]),
        "HOME": str(tmp_path),
        "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "example", "AWS_REGION": "eu-west-1",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",  # nothing listens: the first AWS call fails
        "CDK_DISABLE_VERSION_CHECK": "1", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "1",
    }


def context_of(argv: list[str]) -> dict[str, str]:
    pairs = [argv[i + 1] for i, arg in enumerate(argv) if arg == "-c"]
    return dict(pair.split("=", 1) for pair in pairs)


def test_the_deploy_commands_run_as_written(tmp_path: Path, aws: str) -> None:
    lines = commands("Deploying")
    verbs = [" ".join(argv[:2]) for argv in lines]
    assert verbs == ["make tools", "npx cdk", "aws secretsmanager", "aws secretsmanager", "npx cdk", ".venv/bin/courier doctor"]
    deploy = next(argv for argv in lines if argv[:3] == ["npx", "cdk", "deploy"])
    config = CourierConfig.from_context(context_of(deploy).get)
    assert shutil.which("docker", path=user_shell(tmp_path)["PATH"]) is None, "bundling must work without Docker"
    for stale in ("Courier-dev.template.json", "validation-report.json"):
        (ASSEMBLY / stale).unlink(missing_ok=True)
    for argv in lines:
        if argv[0] == "make":
            result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600)
            assert result.returncode == 0, result.stdout + result.stderr
        elif argv[:2] == ["npx", "cdk"]:
            assert set(context_of(argv)) <= set(CONTEXT_KEYS), "a -c key CDK would silently ignore"
            result = subprocess.run(argv, cwd=ROOT, env=user_shell(tmp_path), capture_output=True, text=True, timeout=600)
            output = result.stdout + result.stderr
            assert "Traceback" not in output and "ModuleNotFoundError" not in output, output[-3000:]
            # Synthesis (app, bundling, cdk-nag) went through; then the CLI needs the account.
            assert "Unable to resolve AWS account" in output, output[-3000:]
        elif argv[:2] == ["aws", "secretsmanager"]:
            _create_secret_as_the_cli_would(argv, config)
        else:
            result = subprocess.run(argv, cwd=ROOT, env={**os.environ, "AWS_ENDPOINT_URL": aws}, capture_output=True, text=True, timeout=120)
            assert result.returncode == 1 and "no stack Courier-dev in us-east-1" in result.stdout, result.stdout + result.stderr
    assert_the_assembly_is_deployable(ASSEMBLY)


def assert_the_assembly_is_deployable(out: Path) -> None:
    """What the synth wrote: every layer bundled (PyAV built for Lambda's arm64, not this
    host; boto3 left to the runtime) and cdk-nag clean."""
    template = json.loads((out / "Courier-dev.template.json").read_text())
    layers = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::LayerVersion"]
    assert len(layers) == 2 + len(DEPENDENCY_LAYERS)  # common, workers of your own, and each dependency layer
    assets = [out / layer["Metadata"]["aws:asset:path"] for layer in layers]
    assert all((asset / "python").is_dir() for asset in assets)
    av_libs = [p for a in assets for p in (a / "python" / "av").glob("*.so")]
    assert av_libs and all(elf_machine(p) == AARCH64 for p in av_libs)
    assert not any((a / "python" / "boto3").exists() for a in assets)
    assert_every_finding_acknowledged(out / "validation-report.json")


def elf_machine(path: Path) -> int:
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF"
    return int.from_bytes(header[18:20], "little")


def _create_secret_as_the_cli_would(argv: list[str], config: CourierConfig) -> None:
    """`aws secretsmanager create-secret --name N --secret-string S`: N must be the name the
    stack references for this stage and S JSON holding what the functions read."""
    assert argv[2] == "create-secret"
    options = dict(zip(argv[3::2], argv[4::2], strict=True))
    name, value = options["--name"], json.loads(options["--secret-string"])
    assert name in (config.qstash_secret, config.model_keys_secret)
    if name == config.qstash_secret:
        assert set(value) == {"token", "currentSigningKey", "nextSigningKey"}
    boto3.client("secretsmanager").create_secret(Name=name, SecretString=options["--secret-string"])
    from courier.secrets import load_json_secret

    assert load_json_secret(f"secretsmanager:{name}") == value


def run_as_written(section: str) -> list[tuple[str, int, str]]:
    """The section's `courier` lines as README writes them (optional parts left out), on a
    deployment found by its stack's outputs: (action, exit code, what it printed)."""
    settings = DevSettings(config=CourierConfig(stage="dev"))
    register_stack(settings, create_resources(settings.config), boto3.session.Session())
    env = {k: v for k, v in os.environ.items() if k not in ("TABLE_NAME", "COURIER_STACK")}
    outcomes = []
    for argv in commands(section):
        argv = [arg for arg in argv if not (arg.startswith("[") or arg.endswith("]"))]
        result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        outcomes.append((argv[2], result.returncode, result.stdout + result.stderr))
    return outcomes


def test_the_key_commands_run_as_written(aws: str) -> None:
    outcomes = run_as_written("Jobs")
    assert [(action, code) for action, code, _ in outcomes] == [("create", 0), ("create", 0), ("list", 0), ("revoke", 1)], outcomes
    assert "for tenant acme" in outcomes[0][2] and "operator key" in outcomes[1][2] and "(operator)" in outcomes[2][2]
    assert "no key key_0123456789ab" in outcomes[3][2]  # README's placeholder id: a clear refusal


def test_the_tenant_limit_commands_run_as_written(aws: str) -> None:
    outcomes = run_as_written("Limits per tenant")
    assert [(action, code) for action, code, _ in outcomes] == [("set", 0), ("set", 0), ("set", 0), ("show", 0)], outcomes
    assert "video_processor" in outcomes[0][2] and "at most 500 jobs waiting" in outcomes[3][2]
