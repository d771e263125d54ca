"""What the local stack is made of and what each function's environment holds: the
same configuration (infra.config) and the same variables CDK sets (infra.environment),
with local values (a test compares the names with the synthesized template's).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from courier.network import LOOPBACK_SETTING
from devstack.aws_resources import LocalResources
from devstack.qstash.signing import DEV_CURRENT_SIGNING_KEY, DEV_NEXT_SIGNING_KEY, DEV_TOKEN
from infra.config import (
    OUTPUT_API_URL,
    OUTPUT_BUCKET_NAME,
    OUTPUT_TABLE_NAME,
    CourierConfig,
    stack_name,
    worker_output,
)
from infra.environment import (
    api_environment,
    job_type_routes,
    model_environment,
    runtime_environment,
    shared_environment,
    worker_dispatch_environment,
    worker_environment,
)

STAGE = "local"
#: Ports per kind (Function URLs from port_base + 10, function hosts from + 20).
PORT_SLOTS = 10
#: Local credentials for moto: any value works; never real ones.
LOCAL_AWS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}
#: Model settings passed through from the developer's shell, for a real or local model.
MODEL_PASSTHROUGH = ("AZURE_AI_FOUNDRY_ENDPOINT", "COURIER_AI_CATALOG")


def local_config(context: tuple[str, ...] = ()) -> CourierConfig:
    """The configuration CDK would deploy with these context values (`-c key=value`), on the local stage."""
    values = dict(item.split("=", 1) for item in context)
    return CourierConfig.from_context({**values, "stage": STAGE}.get)


def current_config(context: tuple[str, ...] = ()) -> CourierConfig:
    """The configuration as the files say now, in a process that read them before: every
    worker folder gathered again, a team's worker modules read anew (`courier dev reload`)."""
    import importlib
    import sys

    from courier.jobs import catalog

    for module in [m for m in sys.modules if m == catalog.WORKER_PACKAGE or m.startswith(catalog.WORKER_PACKAGE + ".")]:
        del sys.modules[module]
    importlib.invalidate_caches()
    catalog.load.cache_clear()
    return local_config(context)


def wipe_state(settings: DevSettings, *, ports: bool = False) -> list[Path]:
    """What the local stack holds beside local AWS (which keeps nothing once stopped): the
    QStash server's database (messages, schedules, dead letters) and the kept API keys, so
    the next stack starts as one thing, empty. With `ports`, the port slots too
    (`courier dev reset`). Returns what it removed."""
    import shutil

    qstash = [settings.qstash_db.with_name(settings.qstash_db.name + suffix) for suffix in ("", "-wal", "-shm", "-journal")]
    removed = [path for path in (*qstash, settings.api_key_file, settings.keys_directory, *([settings.ports_file] if ports else []))
               if path.exists()]
    for path in removed:
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    return removed


@dataclass(frozen=True)
class DevSettings:
    """Where the stack keeps its state and which ports it takes (from `port_base` up)."""

    directory: Path = Path(".devstack")
    port_base: int = 4560
    #: Multiplies the QStash server's retry delays (1.0 = QStash's own timing).
    backoff_scale: float = 1.0
    #: Local-only overrides: a shorter job lease and visibility timeout (tests).
    lease_seconds: float | None = None
    visibility_seconds: int | None = None
    #: CDK context values for the stack (`courier dev up -c fairShare=false`), as `key=value`.
    context: tuple[str, ...] = ()
    config: CourierConfig = field(default_factory=local_config)

    @classmethod
    def with_context(cls, *context: str, **fields: Any) -> DevSettings:
        """Settings whose configuration is the one these context values give."""
        return cls(**fields, context=context, config=local_config(context))

    @property
    def api_port(self) -> int:
        return self.port_base

    @property
    def qstash_port(self) -> int:
        return self.port_base + 1

    @property
    def aws_port(self) -> int:
        return self.port_base + 6

    def function_url_port(self, worker: str) -> int:
        return self.port_base + 10 + self.port_slots()["functionUrls"][worker]

    def host_port(self, function: str) -> int:
        return self.port_base + 20 + self.port_slots()["hosts"][function]

    @property
    def ports_file(self) -> Path:
        return self.directory / "ports.json"

    def port_slots(self) -> dict[str, dict[str, int]]:
        """Each worker's Function URL slot and each function's host slot, in the order the
        stack first saw them (kept in `ports_file`): a worker added later takes the next
        ports, and no other's URL moves (a team's .env keeps working across restarts)."""
        try:
            kept = json.loads(self.ports_file.read_text())
        except (OSError, ValueError):
            kept = {}
        slots: dict[str, dict[str, int]] = {}
        for kind, names in (("functionUrls", [w.name for w in self.config.workers]), ("hosts", [f.name for f in self.config.functions])):
            taken = dict(kept.get(kind, {}))
            for name in names:
                if name not in taken:
                    taken[name] = next(n for n in range(len(taken) + 1) if n not in taken.values())
                if taken[name] >= PORT_SLOTS:
                    raise ValueError(f"the local stack has ports for {PORT_SLOTS} functions: {name} is one more (courier dev reset frees "
                                     "the slots of removed ones)")
            slots[kind] = taken
        return slots

    def keep_port_slots(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.ports_file.write_text(json.dumps(self.port_slots(), indent=2))

    def url(self, port: int) -> str:
        return f"http://127.0.0.1:{port}"

    @property
    def aws_url(self) -> str:
        return self.url(self.aws_port)

    @property
    def qstash_url(self) -> str:
        return self.url(self.qstash_port)

    @property
    def api_url(self) -> str:
        return self.url(self.api_port)

    def function_url(self, worker: str) -> str:
        return self.url(self.function_url_port(worker)) + "/"

    @property
    def logs(self) -> Path:
        return self.directory / "logs"

    @property
    def aws_audit_log(self) -> Path:
        """Every AWS call each function made, as IAM sees it (devstack.aws_audit)."""
        return self.logs / "aws-calls.jsonl"

    @property
    def state_file(self) -> Path:
        return self.directory / "state.json"

    @property
    def api_key_file(self) -> Path:
        return self.directory / "demo-api-key"

    @property
    def qstash_db(self) -> Path:
        return self.directory / "qstash.sqlite3"

    @property
    def keys_directory(self) -> Path:
        """The keys the CLI makes for `--tenant` on this stack, one file per tenant."""
        return self.directory / "keys"

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser, *, tuning: bool = True) -> None:
        """The options of every devstack command: where (`--dir`, `--port-base`, also from
        COURIER_DEV_DIR / COURIER_DEV_PORT_BASE) and, for starting, the local-only tuning."""
        parser.add_argument("--dir", type=Path, default=Path(os.environ.get("COURIER_DEV_DIR", ".devstack")),
                            help="the stack's state, logs and key (default: .devstack, or $COURIER_DEV_DIR)")
        parser.add_argument("--port-base", type=int, default=int(os.environ.get("COURIER_DEV_PORT_BASE", "4560")),
                            help="the first of its ports: the API, QStash, moto and each function's URL follow (default: 4560)")
        if tuning:
            parser.add_argument("--backoff-scale", type=float, default=1.0,
                                help="multiply QStash's retry backoff by this (below 1: retries come sooner, for tests)")
            parser.add_argument("--lease-seconds", type=float, help="a shorter job lease in seconds (tests: a stalled run is taken over sooner)")
            parser.add_argument("--visibility-seconds", type=int, help="the local SQS queues' visibility timeout in seconds (default: as deployed)")
            parser.add_argument("-c", "--context", action="append", default=[], metavar="KEY=VALUE",
                                help="a CDK context value, as `cdk deploy -c` takes it (e.g. -c fairShare=false)")

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> DevSettings:
        context = tuple(getattr(args, "context", None) or ())
        if any("=" not in item for item in context):
            raise SystemExit(f"-c takes KEY=VALUE, not {next(i for i in context if '=' not in i)!r}")
        return cls(
            args.dir, args.port_base, getattr(args, "backoff_scale", 1.0),
            getattr(args, "lease_seconds", None), getattr(args, "visibility_seconds", None), context, local_config(context),
        )

    def to_args(self) -> list[str]:
        args = ["--dir", str(self.directory), "--port-base", str(self.port_base), "--backoff-scale", str(self.backoff_scale)]
        if self.lease_seconds is not None:
            args += ["--lease-seconds", str(self.lease_seconds)]
        if self.visibility_seconds is not None:
            args += ["--visibility-seconds", str(self.visibility_seconds)]
        for item in self.context:
            args += ["--context", item]
        return args


def _claim(base: int) -> bool:
    """This process's claim on a port base (a file naming its pid), so that two processes that
    pick a base at the same moment, before either stack binds its ports, do not pick the same
    one; a claim whose process has ended is taken over."""
    folder = Path(tempfile.gettempdir()) / "courier-port-bases"
    folder.mkdir(exist_ok=True)
    path = folder / str(base)
    try:
        owner = int(path.read_text() or 0)
    except (OSError, ValueError):
        owner = 0
    if owner and owner != os.getpid():
        try:
            os.kill(owner, 0)
            return False  # claimed by a process that still runs
        except ProcessLookupError:
            path.unlink(missing_ok=True)
        except PermissionError:
            return False
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return owner == os.getpid()
    with os.fdopen(descriptor, "w") as claim:
        claim.write(str(os.getpid()))
    return True


def free_port_base(span: int = 30) -> int:
    """A `--port-base` whose whole span of ports is free now and that no other running process
    has claimed (tests and benchmarks run stacks side by side, in parallel chains)."""
    for base in range(20000, 60000, 97):
        sockets = []
        try:
            for port in range(base, base + span):
                s = socket.socket()
                s.bind(("127.0.0.1", port))
                sockets.append(s)
            if _claim(base):
                return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no free port range")


def aws_environment(settings: DevSettings) -> dict[str, str]:
    return {**LOCAL_AWS, "AWS_ENDPOINT_URL": settings.aws_url}


def function_credentials(name: str) -> dict[str, str]:
    """A function's own local access key, so local AWS knows who called (devstack.aws_audit)."""
    from devstack.aws_audit import FUNCTION_KEY_PREFIX

    return {"aws_access_key_id": FUNCTION_KEY_PREFIX + name, "aws_secret_access_key": "local", "aws_session_token": "local"}


def function_environment(settings: DevSettings, name: str, resources: LocalResources) -> dict[str, str]:
    """The variables CDK gives function `name` (from infra.environment, the same
    functions the stack uses), with local values; plus the local-only ones the README lists."""
    config = settings.config
    env = {
        **runtime_environment(name, config.stage),
        **shared_environment(
            table=resources.table_name,
            bucket=resources.bucket_name,
            qstash_url=settings.qstash_url,
            qstash_secret_ref=f"secretsmanager:{config.qstash_secret}",
        ),
    }
    workers = {w.name: w for w in config.workers}
    if name in workers:
        env.update(worker_environment(config, workers[name]))
        env["WORKER_QUEUE_URL"] = resources.queues[name].queue_url
        env.update(worker_dispatch_environment(config, public_api_url=settings.api_url))
        if workers[name].calls_models:
            env.update(model_environment(config, f"secretsmanager:{config.model_keys_secret}"))
            env.update({k: os.environ[k] for k in MODEL_PASSTHROUGH if os.environ.get(k)})
    else:
        env.update(api_environment(config, public_api_url=settings.api_url, job_types_json=json.dumps(local_routes(settings, resources)),
                                   sources_key=resources.sources_key))
    env[LOOPBACK_SETTING] = "true"  # local only: callbacks and fetches may reach 127.0.0.1
    if settings.lease_seconds is not None:
        env["JOB_LEASE_SECONDS"] = str(settings.lease_seconds)
    return {**env, **aws_environment(settings), "AWS_ACCESS_KEY_ID": function_credentials(name)["aws_access_key_id"]}


def local_routes(settings: DevSettings, resources: LocalResources) -> dict[str, dict[str, str]]:
    config = settings.config
    return job_type_routes(config.workers, settings.function_url, lambda w: resources.queues[w].queue_url, stage=config.stage)


def seed_secrets(settings: DevSettings, session: Any, resources: LocalResources) -> None:
    """The secrets and parameters a deployment's operator creates, with local values:
    the QStash server's signing keys, model keys from COURIER_MODEL_KEYS (JSON, if set),
    each worker's public URL, and the job routes the workers read. Idempotent."""
    config = settings.config
    secrets = session.client("secretsmanager")
    values = {
        config.qstash_secret: {"token": DEV_TOKEN, "currentSigningKey": DEV_CURRENT_SIGNING_KEY, "nextSigningKey": DEV_NEXT_SIGNING_KEY},
        config.model_keys_secret: json.loads(os.environ.get("COURIER_MODEL_KEYS") or "{}"),
    }
    for name, value in values.items():
        try:
            secrets.create_secret(Name=name, SecretString=json.dumps(value))
        except secrets.exceptions.ResourceExistsException:
            secrets.put_secret_value(SecretId=name, SecretString=json.dumps(value))
    ssm = session.client("ssm")
    for spec in config.workers:
        ssm.put_parameter(Name=config.worker_url_parameter(spec.name), Value=settings.function_url(spec.name), Type="String", Overwrite=True)
    ssm.put_parameter(Name=config.job_routes_parameter, Value=json.dumps(local_routes(settings, resources)), Type="String", Overwrite=True)


def stack_outputs(settings: DevSettings, resources: LocalResources) -> dict[str, str]:
    """The deployed stack's outputs, by the same names, with the local stack's values."""
    outputs = {
        OUTPUT_API_URL: settings.api_url + "/",
        OUTPUT_TABLE_NAME: resources.table_name,
        OUTPUT_BUCKET_NAME: resources.bucket_name,
    }
    for spec in settings.config.workers:
        outputs[worker_output(spec.name, "FunctionUrl")] = settings.function_url(spec.name)
        outputs[worker_output(spec.name, "QueueUrl")] = resources.queues[spec.name].queue_url
        outputs[worker_output(spec.name, "DeadLetterQueueUrl")] = resources.queues[spec.name].dead_letter_queue_url
    return outputs


def register_stack(settings: DevSettings, resources: LocalResources, session: Any) -> str:
    """A CloudFormation stack `Courier-local` in local AWS holding those outputs, so the
    commands that find a deployment by its stack (`courier keys`, `courier doctor
    --stack`) work on the local stack unchanged."""
    name = stack_name(settings.config.stage)
    template = {
        "Resources": {"Marker": {"Type": "AWS::SSM::Parameter", "Properties": {"Name": f"{settings.config.prefix}/stack", "Type": "String", "Value": name}}},
        "Outputs": {key: {"Value": value} for key, value in stack_outputs(settings, resources).items()},
    }
    cloudformation = session.client("cloudformation")
    try:
        cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(template))
    except cloudformation.exceptions.AlreadyExistsException:
        cloudformation.update_stack(StackName=name, TemplateBody=json.dumps(template))
    return name
