"""`courier flow list|pause|resume`: what waits and runs on each worker, tenant by tenant, and
a worker's QStash intake paused for maintenance without losing a message.

Works the deployment itself, as `courier dlq` does: the caller's AWS credentials for the
queues, `QSTASH_TOKEN` for QStash (the local stack's is known). On QStash each tenant has a
flow-control key per worker (`courier-<stage>-<worker>.<tenant>`, courier.jobs.dispatch);
`pause` pauses every key of the worker QStash knows and `resume` resumes them: deliveries
wait in QStash meanwhile, and drain when resumed.
"""

from __future__ import annotations

import argparse
import re
from typing import Any

from courier_cli.output import OK, USAGE, CliError, Output
from courier_cli.target import Target

COLUMNS = ("worker", "tenant", "transport", "waiting", "running", "parallelism", "rate", "paused")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    flow = commands.add_parser("flow", help="each worker's waiting and running jobs by tenant; pause and resume a worker's intake")
    actions = flow.add_subparsers(dest="action", required=True)
    actions.add_parser("list", parents=[common], help="every worker's queue and QStash flow-control keys: waiting, running, limits")
    for name, text in (("pause", "hold a worker's QStash deliveries (they wait in QStash)"), ("resume", "deliver what a paused worker held")):
        command = actions.add_parser(name, parents=[common], help=text)
        command.add_argument("worker", help="the worker (e.g. ai_router, video_processor)")


def worker_of(key: str, workers: list[str]) -> tuple[str, str | None] | None:
    """(worker, tenant or None for the worker's own key) of a Courier flow-control key."""
    base, _, tenant = key.partition(".")
    for worker in workers:
        if base.endswith("-" + worker):
            return worker, tenant or None
    return None


def qstash(target: Target) -> Any:
    """The QStash client for the deployment, or None without a token."""
    if not (target.qstash_token and target.qstash_url):
        return None
    from qstash import QStash

    return QStash(target.qstash_token, base_url=target.qstash_url)


def flow_keys(client: Any) -> list[Any]:
    """Every flow-control key QStash knows, each with its state (the SDK lists none)."""
    if client is None:
        return []
    return [client.flow_control.get(entry["flowControlKey"]) for entry in client.http.request(path="/v2/flowControl", method="GET")]


def queues(target: Target) -> dict[str, str]:
    """Each worker's queue URL by the worker's own name (the outputs name it in PascalCase)."""
    return {re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower(): queue for name, (queue, _) in target.queues().items()}


def run(target: Target, out: Output, args: argparse.Namespace) -> int:
    workers = sorted(queues(target))
    if args.action == "list":
        return listing(target, out, workers)
    if args.worker not in workers:
        raise CliError("unknown_worker", f"no worker {args.worker!r} in {target.where}; the workers are {', '.join(workers)}", USAGE)
    client = qstash(target)
    if client is None:
        raise CliError("needs_qstash", "set QSTASH_TOKEN (and QSTASH_URL for a region's own) to pause or resume QStash's deliveries", USAGE)
    keys = [info.key for info in flow_keys(client) if (worker_of(info.key, workers) or ("", None))[0] == args.worker]
    for key in keys:
        (client.flow_control.pause if args.action == "pause" else client.flow_control.resume)(key)
    done = "paused" if args.action == "pause" else "resumed"
    out.data({"worker": args.worker, args.action: keys}, f"{done} {len(keys)} flow-control key(s) of {args.worker}: {', '.join(keys) or 'none yet'}")
    return OK


def listing(target: Target, out: Output, workers: list[str]) -> int:
    from courier.aws import client

    sqs, rows, data = client("sqs"), [], []
    for worker, queue_url in sorted(queues(target).items()):
        attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
        shown = attributes["Attributes"]
        data.append({"worker": worker, "tenant": None, "transport": "sqs", "waiting": int(shown["ApproximateNumberOfMessages"]),
                     "running": int(shown["ApproximateNumberOfMessagesNotVisible"]), "parallelism": None, "rate": None, "paused": False})
    for info in flow_keys(qstash(target)):
        owner = worker_of(info.key, workers)
        if owner is None:
            continue
        rate = f"{info.rate_max}/{info.rate_period}s" if info.rate_max else None
        data.append({"worker": owner[0], "tenant": owner[1], "transport": "qstash", "key": info.key, "waiting": info.wait_list_size,
                     "running": info.parallelism_count, "parallelism": info.parallelism_max or None, "rate": rate, "paused": info.is_paused})
    data.sort(key=lambda row: (row["worker"], row["transport"], row["tenant"] or ""))
    rows = [[r["worker"], r["tenant"] or "-", r["transport"], r["waiting"], r["running"], r["parallelism"] or "-", r["rate"] or "-",
             "yes" if r["paused"] else "no"] for r in data]
    out.table({"flows": data}, rows, COLUMNS, empty="no worker")
    return OK
