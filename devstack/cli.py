"""`courier dev up | down | reload | reset | status | env [--json]`: the local stack in the background.

`up` is idempotent: a running stack is left as it is, unless the worker folders declare
other workers or job types than it runs, when it reloads them. `reload` starts every
function anew on the files as they are (a new worker gets its queues and Function URL),
keeping jobs, keys, schedules and messages; ports stay where they were. `down` stops the
supervisor and then only the processes it recorded. The stack's state is one thing: local
AWS keeps nothing once stopped, so a stack that starts also clears what referred to it (the
QStash server's database, the kept keys) and makes a new demo key; `reset` does so at once
and frees the port slots of removed workers. `status --json` prints every local endpoint
and where the demo's API key is; `env` prints the AWS and QStash variables that point
`courier keys`, `courier doctor --stack Courier-local` and an app at it
(`eval "$(courier dev env)"`).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from devstack.environment import DevSettings, wipe_state
from devstack.supervisor import ROOT, http_ok

UP_TIMEOUT_SECONDS = 180.0


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child of ours has exited
        return os.waitpid(pid, os.WNOHANG) == (0, 0)
    except ChildProcessError:
        pass
    try:  # so has another process's zombie (a stack a test started in-process, stopped by `dev down`)
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def read_state(settings: DevSettings) -> dict[str, Any] | None:
    try:
        state = json.loads(settings.state_file.read_text())
    except (OSError, ValueError):
        return None
    return state if alive(state["pid"]) else None


def up(settings: DevSettings, *, quiet: bool = False) -> dict[str, Any]:
    """Start the stack unless it runs (reload it if the worker folders changed); return its
    state once it is ready."""
    state = read_state(settings)
    if state and state.get("ready"):
        changed = changed_workers(state, settings)
        if changed:
            if not quiet:
                print(f"the worker folders changed ({changed}): reloading the functions", file=sys.stderr)
            return reload(settings)
        return state
    if state is None:
        settings.logs.mkdir(parents=True, exist_ok=True)
        settings.state_file.unlink(missing_ok=True)
        log = open(settings.logs / "devstack.log", "ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "devstack.supervisor", *settings.to_args()],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
        log.close()
        if not quiet:
            print(f"starting the local stack (logs in {settings.logs}/) ...", file=sys.stderr)
    else:
        process = None
    deadline = time.monotonic() + UP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        state = read_state(settings)
        if state and state.get("ready"):
            return state
        if process is not None and process.poll() is not None:
            tail = (settings.logs / "devstack.log").read_text(errors="replace")[-3000:]
            raise SystemExit(f"the local stack did not start:\n{tail}")
        time.sleep(0.2)
    raise SystemExit(f"the local stack was not ready within {UP_TIMEOUT_SECONDS:.0f} s; see {settings.logs}/")


def changed_workers(state: dict[str, Any], settings: DevSettings) -> str:
    """What the worker folders declare that the running stack does not run ("" if nothing)."""
    running: dict[str, list[str]] = state.get("jobTypes", {})
    declared = {w.name: list(w.job_types) for w in settings.config.workers}
    changes = [f"new worker {name}" for name in declared if name not in running]
    changes += [f"{name} gone" for name in running if name not in declared]
    changes += [f"{name}'s job types" for name in declared if name in running and running[name] != declared[name]]
    return ", ".join(changes)


def reload(settings: DevSettings) -> dict[str, Any]:
    """Ask the running supervisor to start its functions anew on the files as they are now
    (SIGHUP); return its state once it is ready again."""
    state = read_state(settings)
    if state is None:
        raise SystemExit("the local stack is not running (courier dev up)")
    os.kill(state["pid"], signal.SIGHUP)
    deadline = time.monotonic() + UP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        now = read_state(settings)
        if now is None:
            raise SystemExit(f"the local stack stopped while reloading; see {settings.logs}/devstack.log")
        if now.get("ready") and now.get("reloads", 0) > state.get("reloads", 0):
            return now
        time.sleep(0.2)
    raise SystemExit(f"the local stack did not reload within {UP_TIMEOUT_SECONDS:.0f} s; see {settings.logs}/")


def reset(settings: DevSettings, *, quiet: bool = False) -> dict[str, Any]:
    """Stop the stack, clear everything it kept (port slots too) and start an empty one."""
    down(settings)
    removed = wipe_state(settings, ports=True)
    if not quiet:
        print(f"cleared {', '.join(p.name for p in removed) or 'nothing kept'}; local AWS starts empty", file=sys.stderr)
    return up(settings, quiet=quiet)


def down(settings: DevSettings) -> list[int]:
    """Stop the supervisor, then any process it recorded that outlived it; return the pids."""
    try:
        state = json.loads(settings.state_file.read_text())
    except (OSError, ValueError):
        return []
    pids = [state["pid"], *state.get("processes", {}).values()]
    if alive(state["pid"]):
        os.kill(state["pid"], signal.SIGTERM)
    deadline = time.monotonic() + 20
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in pids:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
    settings.state_file.unlink(missing_ok=True)
    return pids


def status(settings: DevSettings) -> dict[str, Any]:
    state = read_state(settings)
    if state is None:
        return {"running": False, "directory": str(settings.directory.resolve())}
    urls = state["urls"]
    health = {
        "api": http_ok(urls["api"] + "/openapi.json"),
        "qstash": http_ok(urls["qstash"] + "/v2/topics"),
        "aws": http_ok(urls["aws"] + "/moto-api/"),
    }
    processes = {name: {"pid": pid, "alive": alive(pid)} for name, pid in state["processes"].items()}
    return {"running": True, **state, "health": health, "processes": processes}


def print_status(report: dict[str, Any]) -> None:
    if not report["running"]:
        print("the local stack is not running (courier dev up, or make dev)")
        return
    urls = report["urls"]
    print(f"API          {urls['api']}   (docs {urls['docs']})")
    for name, url in urls["functionUrls"].items():
        print(f"Function URL {url}   ({name})")
    print(f"QStash       {urls['qstash']}")
    print(f"AWS (moto)   {urls['aws']}")
    print(f"logs         {report['logs']}/")
    print(f"demo key     {report['apiKeyFile']}   (tenant demo: curl -H \"Authorization: Bearer $(cat {report['apiKeyFile']})\")")
    print(f"stack        {report['stack']['name']}   (eval \"$(courier dev env)\"; courier doctor --stack {report['stack']['name']})")
    down_parts = [n for n, ok in report.get("health", {}).items() if not ok]
    down_parts += [n for n, p in report["processes"].items() if not p["alive"]]
    if down_parts:
        print(f"not answering: {', '.join(down_parts)}")


def shell_environment(state: dict[str, Any]) -> dict[str, str]:
    """What `courier dev env` exports, and what the CLI sets for itself when it finds the
    stack running: its local AWS, its QStash (token and signing keys) and its name."""
    from devstack.qstash.signing import DEV_CURRENT_SIGNING_KEY, DEV_NEXT_SIGNING_KEY, DEV_TOKEN

    qstash = {"QSTASH_URL": state["urls"]["qstash"], "QSTASH_TOKEN": DEV_TOKEN,
              "QSTASH_CURRENT_SIGNING_KEY": DEV_CURRENT_SIGNING_KEY, "QSTASH_NEXT_SIGNING_KEY": DEV_NEXT_SIGNING_KEY}
    return {**state["stack"]["environment"], **qstash, "COURIER_STACK": state["stack"]["name"]}


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="courier dev", description="The whole system on this machine, offline.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, says in (("up", "start the local stack (or reload it if the worker folders changed)"), ("down", "stop it"),
                       ("reload", "start its functions anew on the files as they are, keeping jobs, keys and schedules"),
                       ("reset", "stop it, clear what it kept (jobs, keys, schedules, messages) and start an empty one"),
                       ("status", "what runs and where"), ("env", "shell exports that point the CLI and SDKs at it")):
        command = sub.add_parser(name, help=says, description=says)
        DevSettings.add_arguments(command, tuning=name in ("up", "reset"))
        command.add_argument("--json", action="store_true", help="the answer as JSON")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = DevSettings.from_args(args)
    if args.command == "up":
        up(settings, quiet=args.json)
    elif args.command == "reload":
        reload(settings)
    elif args.command == "reset":
        reset(settings, quiet=args.json)
    elif args.command == "down":
        stopped = down(settings)
        if args.json:
            print(json.dumps({"stopped": stopped}))
        else:
            print(f"stopped {len(stopped)} processes" if stopped else "the local stack was not running")
        return 0
    report = status(settings)
    if args.command == "env":
        if not report["running"]:
            print("# the local stack is not running (courier dev up)", file=sys.stderr)
            return 1
        variables = shell_environment(report)
        print(json.dumps(variables, indent=2) if args.json else "\n".join(f"export {k}={v}" for k, v in variables.items()))
        return 0
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_status(report)
    return 0 if report["running"] else 1


if __name__ == "__main__":
    sys.exit(main())
