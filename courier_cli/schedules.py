"""`courier schedules list|show|pause|resume|delete`."""

from __future__ import annotations

import argparse
from typing import Any
from urllib.parse import quote

from courier_cli.api import Api
from courier_cli.output import OK, Output, local_time

COLUMNS = ("schedule", "cron", "type", "state", "next run", "runs")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    schedules = commands.add_parser("schedules", help="list, show, pause, resume and delete cron schedules")
    actions = schedules.add_subparsers(dest="action", required=True)
    actions.add_parser("list", parents=[common], help="your schedules, newest first")
    for name, text in (("show", "one schedule and its last runs"), ("pause", "stop firing until resumed"), ("resume", "fire again"),
                       ("delete", "delete it (its jobs stay)")):
        actions.add_parser(name, parents=[common], help=text).add_argument("schedule_id", help="the schedule's id (sched_...)")


def row(schedule: dict[str, Any]) -> list[Any]:
    cron = schedule["cron"] + (f" ({schedule['timezone']})" if schedule.get("timezone") else "")
    return [schedule["scheduleId"], cron, schedule["type"], "paused" if schedule["paused"] else "active",
            local_time(schedule.get("nextRunAt")), schedule["runs"]]


def run(api: Api, out: Output, args: argparse.Namespace) -> int:
    if args.action == "list":
        found = api.get("/v1/schedules")
        out.table(found, [row(s) for s in found["schedules"]], COLUMNS, empty="no schedules")
        return OK
    path = f"/v1/schedules/{quote(args.schedule_id, safe='')}"
    if args.action == "delete":
        out.data(api.delete(path), f"deleted {args.schedule_id}")
    elif args.action == "show":
        schedule = api.get(path)
        out.table(schedule, [row(schedule)], COLUMNS, empty="")
        runs = [[r.get("jobId"), local_time(r["firedAt"]), r["status"]] for r in schedule.get("lastRuns") or []]
        if not out.as_json:
            out.table(schedule, runs, ("job", "fired", "status"), empty="no runs yet", title="last runs")
    else:
        schedule = api.post(f"{path}/{args.action}")
        out.table(schedule, [row(schedule)], COLUMNS, empty="")
    return OK
