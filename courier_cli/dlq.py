"""`courier dlq list|redrive`: every worker's SQS dead-letter queue and QStash's, side by side.

Works the deployment itself, with the caller's AWS credentials (the table, the queues) and
`QSTASH_TOKEN` for QStash's (the local stack's is known). `redrive` sends back only the
letters of jobs that have not finished (courier.jobs.redrive says why); `--dry-run` shows
what it would do.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from courier.jobs.dynamodb_store import DynamoJobStore
from courier.jobs.redrive import Action, DeadLetter, DeadLetters, Verdict, redrive
from courier_cli.output import FAILED, OK, Output
from courier_cli.target import Target

#: Long enough to look at a page of letters and act on them before SQS shows them again.
LOOK_SECONDS = 60
COLUMNS = ("source", "letter", "job", "job status", "action", "reason / error")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    dlq = commands.add_parser("dlq", help="dead letters of SQS and QStash: list, redrive")
    actions = dlq.add_subparsers(dest="action", required=True)
    for name, text in (("list", "the letters and what redrive would do with each"), ("redrive", "send back the letters of unfinished jobs")):
        command = actions.add_parser(name, parents=[common], help=text)
        command.add_argument("--limit", type=int, default=100, help="at most this many letters per queue (default 100)")
        command.add_argument("--worker", action="append", help="only this worker's SQS dead-letter queue (repeatable)")
        command.add_argument("--no-qstash", action="store_true", help="leave QStash's dead-letter queue out")
    redrive_command = actions.choices["redrive"]
    redrive_command.add_argument("--dry-run", action="store_true", help="say what would happen, change nothing")
    redrive_command.add_argument("--drop-finished", action="store_true", help="delete the letters of jobs that already ended")


class SqsDeadLetters:
    transport = "sqs"

    def __init__(self, worker: str, queue_url: str, dead_letter_url: str, sqs: Any) -> None:
        self.worker, self.queue_url, self.dead_letter_url, self.sqs = worker, queue_url, dead_letter_url, sqs

    def letters(self, limit: int) -> list[DeadLetter]:
        found: list[DeadLetter] = []
        while len(found) < limit:
            received = self.sqs.receive_message(
                QueueUrl=self.dead_letter_url, MaxNumberOfMessages=min(10, limit - len(found)), VisibilityTimeout=LOOK_SECONDS,
                WaitTimeSeconds=1, AttributeNames=["ApproximateReceiveCount"],
            ).get("Messages", [])
            if not received:
                break
            for m in received:
                receives = m.get("Attributes", {}).get("ApproximateReceiveCount", "?")
                found.append(DeadLetter(f"sqs:{self.worker}", m["MessageId"], m["Body"], f"received {receives} times", m["ReceiptHandle"]))
        return found

    def redrive(self, letter: DeadLetter) -> str:
        sent = self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=letter.body)
        self.sqs.delete_message(QueueUrl=self.dead_letter_url, ReceiptHandle=letter.handle)
        return str(sent["MessageId"])

    def drop(self, letter: DeadLetter) -> None:
        self.sqs.delete_message(QueueUrl=self.dead_letter_url, ReceiptHandle=letter.handle)

    def release(self, letters: Iterable[DeadLetter]) -> None:
        pending = list(letters)
        for start in range(0, len(pending), 10):
            entries = [{"Id": str(n), "ReceiptHandle": letter.handle, "VisibilityTimeout": 0} for n, letter in enumerate(pending[start:start + 10])]
            self.sqs.change_message_visibility_batch(QueueUrl=self.dead_letter_url, Entries=entries)


class QStashDeadLetters:
    """The SDK lists; its DLQ API has no retry, so that one call is made here."""

    transport = "qstash"

    def __init__(self, url: str, token: str) -> None:
        from qstash import QStash

        self.url, self.token = url.rstrip("/"), token
        self.client = QStash(token, base_url=self.url)

    def letters(self, limit: int) -> list[DeadLetter]:
        found: list[DeadLetter] = []
        cursor = None
        while len(found) < limit:
            page = self.client.dlq.list(cursor=cursor, count=min(100, limit - len(found)))
            found += [DeadLetter("qstash", m.dlq_id, m.body or "", f"HTTP {m.response_status} from {m.url}", m.dlq_id) for m in page.messages]
            cursor = page.cursor
            if not cursor:
                break
        return found[:limit]

    def redrive(self, letter: DeadLetter) -> str:
        response = httpx.post(f"{self.url}/v2/dlq/retry/{letter.handle}", headers={"Authorization": f"Bearer {self.token}"}, timeout=30)
        response.raise_for_status()
        return str(response.json()["messageId"])

    def drop(self, letter: DeadLetter) -> None:
        self.client.dlq.delete(letter.handle)

    def release(self, letters: Iterable[DeadLetter]) -> None:
        pass  # QStash shows a letter to every reader until it is retried or deleted


def queues(target: Target, args: argparse.Namespace, out: Output) -> list[DeadLetters]:
    from courier.aws import client

    sqs = client("sqs")
    found: list[DeadLetters] = [SqsDeadLetters(worker, queue, dead, sqs) for worker, (queue, dead) in target.queues().items()
                                if not args.worker or worker in args.worker]
    if not args.no_qstash:
        if target.qstash_token and target.qstash_url:
            found.append(QStashDeadLetters(target.qstash_url, target.qstash_token))
        elif not out.as_json:
            out.err.print("QStash's dead-letter queue left out: set QSTASH_TOKEN (and QSTASH_URL for a region's own)")
    return found


def run(target: Target, out: Output, args: argparse.Namespace) -> int:
    store = DynamoJobStore(target.table_name)
    dry_run = args.action == "list" or args.dry_run
    sources = queues(target, args, out)
    verdicts: list[Verdict] = []
    with out.progress("dead letters", total=None) as bar:
        # Every queue read at once: an empty SQS queue answers only when its long poll ends.
        with ThreadPoolExecutor(max_workers=max(1, len(sources))) as pool:
            batches = list(zip(sources, pool.map(lambda source: source.letters(args.limit), sources), strict=True))
        for verdict in redrive(batches, store.get, dry_run=dry_run, drop_finished=getattr(args, "drop_finished", False),
                               record_dispatch=store.record_dispatch):
            verdicts.append(verdict)
            bar.update(bar.task_ids[0], advance=1, description=f"{len(verdicts)} dead letters")
    rows = [[v.letter.source, v.letter.letter_id, v.letter.job_id, v.job_status, _done(v, dry_run), v.error or v.reason] for v in verdicts]
    summary = {"dryRun": dry_run, "letters": [v.to_dict() for v in verdicts],
               "redriven": sum(1 for v in verdicts if v.action is Action.REDRIVE and v.message_id),
               "dropped": sum(1 for v in verdicts if v.action is Action.DROP and not dry_run and not v.error),
               "failed": sum(1 for v in verdicts if v.error)}
    out.table(summary, rows, COLUMNS, empty="no dead letters")
    if not out.as_json and verdicts and not dry_run:
        out.out.print(f"{summary['redriven']} redriven, {summary['dropped']} dropped, {summary['failed']} failed")
    return FAILED if summary["failed"] else OK


def _done(verdict: Verdict, dry_run: bool) -> str:
    if verdict.action is Action.SKIP:
        return "left"
    if dry_run:
        return f"would {verdict.action.value}"
    return "failed" if verdict.error else {Action.REDRIVE: "redriven", Action.DROP: "dropped"}[verdict.action]
