"""`courier tenants show|set ID`: a tenant's limits on each worker (jobs at once, starts per
period) and how many of its jobs may wait, changed without a deploy.

Works the deployment's table with the operator's AWS credentials, as `courier keys` does (the
HTTP API has the same under an operator key: `GET|PATCH /v1/tenants/{id}/limits`). A change
applies to the tenant's next jobs within seconds: the functions re-read limits every
few seconds. What is not set comes from the catalogue (`courier.jobs` Worker).
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from courier.auth.api_keys import TENANT_ID_RULE, valid_tenant_id
from courier.errors import CourierError
from courier.jobs.entries import Worker
from courier.jobs.limits import ALL_WORKERS, TenantLimits, TenantLimitsStore, WorkerLimit, limits_document, parse_rate, shown_rate
from courier_cli.keys import table_arguments, table_name
from courier_cli.output import OK, USAGE, CliError, Output

COLUMNS = ("worker", "concurrency", "rate", "set here")
#: What `--concurrency default` (and the others) say: clear it, the catalogue's applies.
DEFAULT = "default"


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    where = table_arguments()
    tenants = commands.add_parser("tenants", help="a tenant's limits: concurrency and rate per worker, jobs that may wait")
    actions = tenants.add_subparsers(dest="action", required=True)
    show = actions.add_parser("show", parents=[where], help="the tenant's limits on every worker, set and in force")
    show.add_argument("tenant_id", help="the tenant")
    change = actions.add_parser("set", parents=[where], help="change the tenant's limits (its next jobs follow them)")
    change.add_argument("tenant_id", help="the tenant")
    change.add_argument("--worker", default=ALL_WORKERS, help="the worker they apply to (default: every worker)")
    change.add_argument("--concurrency", help="its jobs running at once on the worker (N, or 'default')")
    change.add_argument("--rate", help="its jobs started per period: N/s, N/min, N/h, N/10s (or 'default'); more wait")
    change.add_argument("--max-queued", help="its jobs that may wait to run; past it 429 too_many_queued (N, or 'default')")


def changes(args: argparse.Namespace) -> dict[str, Any]:
    """The table's change from the flags: a field not given stays, 'default' clears it."""
    fields: dict[str, Any] = {}
    if args.concurrency is not None:
        fields["concurrency"] = None if args.concurrency == DEFAULT else whole(args.concurrency, "--concurrency")
    if args.rate is not None:
        fields["rate"], fields["period"] = (None, None) if args.rate == DEFAULT else parse_rate(args.rate)
    change: dict[str, Any] = {"workers": {args.worker: fields}} if fields else {}
    if args.max_queued is not None:
        change["maxQueued"] = None if args.max_queued == DEFAULT else whole(args.max_queued, "--max-queued")
    if not change:
        raise CliError("nothing_to_set", "give --concurrency, --rate or --max-queued", USAGE)
    return change


def whole(text: str, flag: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise CliError("invalid_limit", f"{flag} is a whole number from 1, or 'default', not {text!r}", USAGE)
    return int(text)


def workers() -> list[Worker]:
    from courier.jobs import catalog

    return list(catalog.load().workers)


def in_force(limits: TenantLimits) -> dict[str, WorkerLimit]:
    """Each worker's limits as dispatch applies them: the tenant's over the catalogue's."""
    return {w.name: limits.on(w.name, WorkerLimit(concurrency=w.max_concurrency, rate=w.rate_per_second, period=1 if w.rate_per_second else None))
            for w in workers()}


def show(out: Output, limits: TenantLimits, max_queued: int) -> None:
    forced = in_force(limits)
    data = limits_document(limits, forced, max_queued)
    rows = [[worker, limit.concurrency or "-", shown_rate(limit) or "-", "yes" if worker in limits.workers or ALL_WORKERS in limits.workers else "no"]
            for worker, limit in forced.items()]
    out.table(data, rows, COLUMNS, empty="no worker", title=f"tenant {limits.tenant_id}: at most {max_queued} jobs waiting")


def run(args: argparse.Namespace) -> int:
    out = Output(args.json)
    if not valid_tenant_id(args.tenant_id):
        raise CliError("invalid_tenant", TENANT_ID_RULE, USAGE)
    if args.action == "set":
        names = {w.name for w in workers()} | {ALL_WORKERS}
        if args.worker not in names:
            raise CliError("unknown_worker", f"no worker {args.worker!r}; the workers are {', '.join(sorted(names))}", USAGE)
    try:
        store = TenantLimitsStore(table_name(args))
        limits = store.set(args.tenant_id, changes(args)) if args.action == "set" else store.get(args.tenant_id)
    except CourierError as error:
        raise CliError(error.code, error.message) from None
    from courier.jobs.service import MAX_QUEUED_JOBS

    show(out, limits, limits.max_queued or int(os.environ.get("COURIER_MAX_QUEUED_JOBS", MAX_QUEUED_JOBS)))
    return OK
