"""`courier flow list|pause|resume`: what waits and runs on each worker, tenant by tenant, and
a worker's intake paused for maintenance without losing a message.

Works the deployment itself, as `courier dlq` does: the caller's AWS credentials for the
table, the queues and the event source mappings, `QSTASH_TOKEN` for QStash (the local
stack's is known). On QStash each tenant has a flow-control key per worker
(`courier-<stage>-<worker>.<tenant>`, courier.jobs.dispatch). `pause` marks the worker
paused (new jobs then go to its SQS queue: courier.jobs.intake), disables its queue's event
source mapping (SQS keeps the messages), waits until every function has seen the mark, and
pauses every key of the worker QStash knows (QStash keeps theirs). `resume` undoes the three,
and both drain.
"""

from __future__ import annotations

import argparse
import re
import time
from typing import Any

from courier.jobs.intake import CACHE_SECONDS, WorkerIntake
from courier_cli.output import OK, USAGE, CliError, Output
from courier_cli.target import Target

COLUMNS = ("worker", "tenant", "transport", "waiting", "running", "parallelism", "rate", "paused")
#: Until every warm function has read the pause (courier.jobs.intake.CACHE_SECONDS), a
#: tenant's first job may still make a QStash key; the keys are paused after it.
SETTLE_SECONDS = CACHE_SECONDS + 0.5


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    flow = commands.add_parser("flow", help="each worker's waiting and running jobs by tenant; pause and resume a worker's intake")
    actions = flow.add_subparsers(dest="action", required=True)
    actions.add_parser("list", parents=[common], help="every worker's queue and QStash flow-control keys: waiting, running, limits")
    for name, text in (("pause", "hold a worker's deliveries (they wait in QStash and in SQS)"), ("resume", "deliver what a paused worker held")):
        command = actions.add_parser(name, parents=[common], help=text)
        command.add_argument("worker", help="the worker (e.g. ai_router, video_processor; a unique start will do: video)")


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
    worker = named_worker(args.worker, workers, target.where)
    client = qstash(target)
    intake = WorkerIntake(target.table_name)
    mappings = event_source_mappings(queues(target)[worker])
    if args.action == "pause":
        intake.set_paused(worker, True)
        set_mappings(mappings, enabled=False)
        time.sleep(SETTLE_SECONDS)
    keys = [info.key for info in flow_keys(client) if (worker_of(info.key, workers) or ("", None))[0] == worker]
    for key in keys:
        (client.flow_control.pause if args.action == "pause" else client.flow_control.resume)(key)
    if args.action == "resume":
        set_mappings(mappings, enabled=True)
        intake.set_paused(worker, False)
    done = "paused" if args.action == "pause" else "resumed"
    out.data({"worker": worker, args.action: keys, "eventSourceMappings": mappings},
             f"{done} {worker}: its SQS event source ({len(mappings)}) and {len(keys)} QStash flow-control key(s){': ' if keys else ''}{', '.join(keys)}")
    return OK


def named_worker(name: str, workers: list[str], where: str) -> str:
    """The worker by its name, or by a start of it that names one worker only (`video`)."""
    matches = [w for w in workers if w == name] or [w for w in workers if w.startswith(name)]
    if len(matches) != 1:
        raise CliError("unknown_worker", f"no worker {name!r} in {where}; the workers are {', '.join(workers)}", USAGE)
    return matches[0]


def event_source_mappings(queue_url: str) -> list[str]:
    """The ids of the event source mappings that read the queue (CDK makes one)."""
    from courier.aws import client

    arn = client("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return [m["UUID"] for m in client("lambda").list_event_source_mappings(EventSourceArn=arn)["EventSourceMappings"]]


def set_mappings(uuids: list[str], *, enabled: bool) -> None:
    from courier.aws import client

    for uuid in uuids:
        client("lambda").update_event_source_mapping(UUID=uuid, Enabled=enabled)


def listing(target: Target, out: Output, workers: list[str]) -> int:
    from courier.aws import client

    sqs, rows, data = client("sqs"), [], []
    intake = WorkerIntake(target.table_name)
    for worker, queue_url in sorted(queues(target).items()):
        attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
        shown = attributes["Attributes"]
        data.append({"worker": worker, "tenant": None, "transport": "sqs", "waiting": int(shown["ApproximateNumberOfMessages"]),
                     "running": int(shown["ApproximateNumberOfMessagesNotVisible"]), "parallelism": None, "rate": None,
                     "paused": intake.paused(worker)})
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
