"""Which deployment a command talks to: `--url` and `--key`, a deployed `--stack`, the local
stack `courier dev up` runs (the default while it runs), else the stack `cdk deploy` made.

Commands that use the HTTP API need its URL and a key; those that work the deployment
itself (keys, dead-letter queues) need the table and the queues, which a stack's outputs
name and the local stack's state file lists. Each part is looked up only when a command
asks for it, so `jobs list --url … --key …` needs no AWS credentials.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from courier_cli import ROOT
from courier_cli.output import USAGE, CliError
from courier_cli.stack import StackNotFound, StackOutputs, default_stack

QSTASH_API = "https://qstash.upstash.io"
DLQ, QUEUE = "DeadLetterQueueUrl", "QueueUrl"


def add_arguments(parser: argparse.ArgumentParser, *, acting_as: bool = True) -> None:
    """Which deployment; with `acting_as`, also `--tenant` (commands that call the API as one)."""
    where = parser.add_argument_group("which deployment (default: the local stack)")
    where.add_argument("--url", default=os.environ.get("COURIER_API_URL"), help="the HTTP API's URL (default: $COURIER_API_URL)")
    where.add_argument("--key", default=os.environ.get("COURIER_API_KEY"), help="an API key (default: $COURIER_API_KEY)")
    if acting_as:
        where.add_argument("--tenant", default=os.environ.get("COURIER_TENANT"),
                           help="act as this tenant with a key the CLI makes once and keeps (the local stack, or --stack; "
                                "default: $COURIER_TENANT, else the local stack's demo tenant)")
    where.add_argument("--stack", default=os.environ.get("COURIER_STACK"), help="a deployed stack, by its outputs (default: $COURIER_STACK)")
    where.add_argument("--dev-dir", type=Path, default=None, help="the local stack's folder (default: $COURIER_DEV_DIR, else .devstack)")


@dataclass
class Target:
    """One deployment. `where` says which, for messages ("the local stack", a stack, a URL)."""

    where: str
    api_url: str | None = None
    _key: str | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    qstash_url: str | None = None
    qstash_token: str | None = None
    local_state: dict[str, Any] | None = None
    #: `--tenant`: act as it with a key made once and kept (where the CLI can reach the table).
    tenant: str | None = None
    #: Where the key came from, for the messages that name the tenant ("--key", "the local stack's demo key").
    key_source: str = "--key"

    @property
    def key(self) -> str:
        if self._key:
            return self._key
        from devstack.environment import DevSettings
        from devstack.keys import DEMO_TENANT, kept_key

        local = DevSettings(directory=Path(self.local_state["directory"])) if self.local_state is not None else None
        if self.tenant:
            if local is not None:
                folder = local.keys_directory
            else:
                folder = Path.home() / ".cache" / "courier" / "keys" / self.where.removeprefix("stack ")
            self._key, self.key_source = kept_key(folder / self.tenant, self.table_name, self.tenant, "courier CLI"), f"--tenant {self.tenant}"
            return self._key
        if local is not None:
            self._key = kept_key(local.api_key_file, self.table_name, DEMO_TENANT, "the local stack's demo key")
            self.key_source = "the local stack's demo key"
            return self._key
        raise CliError("missing_key", f"an API key is needed for {self.where}: --key or COURIER_API_KEY (courier keys create), "
                       "or --tenant with --stack", USAGE)

    @property
    def api(self) -> str:
        if not self.api_url:
            raise CliError("missing_url", f"no API URL for {self.where}: --url or --stack", USAGE)
        return self.api_url.rstrip("/")

    @property
    def table_name(self) -> str:
        return self._output("TableName")

    def queues(self) -> dict[str, tuple[str, str]]:
        """Each worker's (queue URL, dead-letter queue URL), by the outputs' own names: a
        worker added since this checkout's catalogue still has its queues listed."""
        found = {key.removesuffix(DLQ): (self.outputs.get(key.removesuffix(DLQ) + QUEUE), url) for key, url in self.outputs.items() if key.endswith(DLQ)}
        if not found:
            raise CliError("needs_stack", f"{self.where} does not list its queues: give --stack (with AWS credentials), or use the local stack", USAGE)
        return {name: (queue, dead) for name, (queue, dead) in found.items() if queue}

    def _output(self, name: str) -> str:
        if name not in self.outputs:
            raise CliError("needs_stack", f"{self.where} does not say its {name}: give --stack (with AWS credentials), or use the local stack", USAGE)
        return self.outputs[name]


def resolve(args: argparse.Namespace) -> Target:
    """--url wins, then --stack (or COURIER_STACK; the local stack's own name, Courier-local,
    finds it with no AWS settings), then the local stack when it runs, then
    the stack `cdk deploy` makes by default (Courier-<stage>) with the caller's AWS credentials."""
    from courier.auth.api_keys import TENANT_ID_RULE, valid_tenant_id

    target = find_deployment(args)
    tenant = getattr(args, "tenant", None)
    if tenant and getattr(args, "key", None):
        raise CliError("usage", "give --key or --tenant, not both (--tenant makes and keeps a key of its own)", USAGE)
    if tenant and not valid_tenant_id(tenant):
        raise CliError("usage", f"--tenant {tenant!r}: {TENANT_ID_RULE}", USAGE)
    target.tenant = tenant
    return target


def find_deployment(args: argparse.Namespace) -> Target:
    """The deployment alone, its key and tenant not asked for (`courier keys` works its table)."""
    token = os.environ.get("QSTASH_TOKEN")
    qstash_url = os.environ.get("QSTASH_URL", QSTASH_API)
    if args.url and not args.stack:
        return Target(where=args.url, api_url=args.url, _key=args.key, qstash_url=qstash_url, qstash_token=token)
    local = local_stack(args)
    if local is not None:
        return local
    name = args.stack or default_stack()
    try:
        stack = StackOutputs.read(name)
    except StackNotFound as error:
        running = "" if args.stack else "the local stack is not running (courier dev up) and "
        raise CliError("no_deployment", f"{running}{error}", USAGE) from None
    return Target(where=f"stack {name}", api_url=args.url or stack.values.get("ApiUrl"), _key=args.key,
                  outputs=stack.values, qstash_url=qstash_url, qstash_token=token)


def local_stack(args: argparse.Namespace) -> Target | None:
    """The local stack `courier dev up` runs (its folder: --dev-dir, $COURIER_DEV_DIR, else
    .devstack here or in the checkout), pointing this process at its local AWS; None when it is not running."""
    from devstack.cli import read_state, shell_environment
    from devstack.environment import DevSettings
    from devstack.qstash.signing import DEV_TOKEN

    named = getattr(args, "dev_dir", None) or os.environ.get("COURIER_DEV_DIR")
    candidates = [Path(named)] if named else [Path(".devstack"), ROOT / ".devstack"]
    for directory in candidates:
        state = read_state(DevSettings(directory=directory))
        if state and state.get("ready"):
            break
    else:
        return None
    if getattr(args, "stack", None) not in (None, state["stack"]["name"]):
        return None  # another stack is named: this process keeps the caller's AWS
    # The local AWS and QStash for this process (keys, queues, signatures): what
    # `eval "$(courier dev env)"` would set.
    os.environ.update(shell_environment(state))
    resources = state["resources"]
    outputs = {"TableName": resources["table"], "ApiUrl": state["urls"]["api"]}
    from infra.config import worker_output

    for worker, url in resources["queues"].items():
        outputs[worker_output(worker, "QueueUrl")] = url
        outputs[worker_output(worker, "DeadLetterQueueUrl")] = resources["deadLetterQueues"][worker]
    return Target(where="the local stack", api_url=getattr(args, "url", None) or state["urls"]["api"], _key=getattr(args, "key", None), outputs=outputs,
                  qstash_url=state["urls"]["qstash"], qstash_token=DEV_TOKEN, local_state=state)
