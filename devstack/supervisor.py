"""The local stack's supervisor: `python -m devstack.supervisor [--dir D] [--port-base N]`.

It plays the parts of AWS that are not code: it starts local AWS (moto in server mode)
and creates the bucket, table, queues, secrets and parameters from the CDK
configuration; starts the QStash server and one execution environment per function
(devstack.runtime.host, the real handler); and serves, like the Lambda service, the HTTP
API (routes from infra.config), each worker's Function URL, and each worker's SQS event
source. An environment that dies (killed, or timed out) is started again. It writes
where everything is to `<dir>/state.json`, and logs per part under `<dir>/logs/`.
`courier dev up|down|status` drives it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

from devstack.environment import (
    DevSettings,
    aws_environment,
    current_config,
    function_credentials,
    function_environment,
    register_stack,
    seed_secrets,
    wipe_state,
)
from devstack.keys import DEMO_TENANT, kept_key
from devstack.long_lived import freeze_survivors
from devstack.runtime.http_gateway import LambdaHttpServer
from devstack.runtime.invoke import Invocable
from devstack.runtime.remote import RemoteFunction
from devstack.runtime.sqs_poller import SqsPoller
from infra.config import API_ROUTES, DEFAULT_ROUTE_FUNCTION, LAMBDA_ACCOUNT_CONCURRENCY

ROOT = Path(__file__).resolve().parents[1]
logger = logging.getLogger("devstack")


def mapping_enabled(lam: Any, uuid: str) -> Callable[[], bool]:
    """An event source mapping's state in local AWS (`courier flow pause` disables it)."""
    return lambda: bool(lam.get_event_source_mapping(UUID=uuid)["State"] in ("Enabled", "Enabling", "Updating"))


def wait_until(check: Any, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not come up within {timeout:.0f} s")
        time.sleep(0.1)


def port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def _every_path_to(function: Invocable) -> Callable[[str, str], tuple[Invocable, str]]:
    """A Function URL's router: every method and path to its one function."""
    return lambda method, path: (function, "$default")


def http_ok(url: str) -> bool:
    """Something answers at `url` (any status under 500: a 401 is an answer)."""
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status < 500)
    except urllib.error.HTTPError as error:
        return error.code < 500
    except OSError:
        return False


def api_router(functions: dict[str, RemoteFunction]) -> Any:
    """API Gateway's routing for the HTTP API: exact routes first, then `{proxy+}` ones,
    then the `$default` route."""
    routes = [(path, method, name) for name, table in API_ROUTES.items() for path, method in table]
    routes.sort(key=lambda r: r[0].endswith("{proxy+}"))

    def route(method: str, path: str) -> tuple[RemoteFunction, str] | None:
        for pattern, allowed, name in routes:
            if allowed not in ("ANY", method):
                continue
            prefix = pattern.removesuffix("{proxy+}")
            if path == pattern or (pattern.endswith("{proxy+}") and path.startswith(prefix) and len(path) > len(prefix)):
                return functions[name], f"{allowed} {pattern}"
        return functions[DEFAULT_ROUTE_FUNCTION], "$default"

    return route


class Supervisor:
    def __init__(self, settings: DevSettings) -> None:
        self.settings = settings
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.commands: dict[str, tuple[list[str], dict[str, str]]] = {}
        self.restarts: dict[str, int] = {}
        self.servers: list[LambdaHttpServer] = []
        self.pollers: list[SqsPoller] = []
        self.stopping = threading.Event()
        self.reload_requested = threading.Event()
        self.reloads = 0
        self.ready = False

    # -- child processes -----------------------------------------------------------------
    def spawn(self, name: str, command: list[str], env: dict[str, str]) -> None:
        self.commands[name] = (command, env)
        log: IO[bytes] = open(self.settings.logs / f"{name}.log", "ab")
        self.children[name] = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        log.close()

    def start(self) -> None:
        settings = self.settings
        settings.logs.mkdir(parents=True, exist_ok=True)
        wipe_state(settings)  # local AWS starts empty: what referred to its jobs and keys goes with it
        python = sys.executable
        self.spawn("aws", [python, "-m", "devstack.local_aws", "-p", str(settings.aws_port), "--audit", str(settings.aws_audit_log)], {})
        wait_until(lambda: http_ok(settings.aws_url + "/moto-api/"), "local AWS (moto)")
        os.environ.update(aws_environment(settings))
        self.spawn(
            "qstash",
            [python, "-m", "devstack.qstash", "--port", str(settings.qstash_port), "--db", str(settings.qstash_db),
             "--backoff-scale", str(settings.backoff_scale)],
            {},
        )
        self.start_functions()
        wait_until(lambda: port_open(settings.qstash_port), "the QStash server")
        kept_key(settings.api_key_file, self.resources.table_name, DEMO_TENANT, "the local stack's demo key")
        self.ready = True
        self.write_state()

    def start_functions(self) -> None:
        """The configuration's resources (idempotent), one environment per function, the HTTP
        API, each worker's Function URL and its SQS event source."""
        import boto3

        from devstack.aws_resources import create_resources

        settings, config = self.settings, self.settings.config
        session = boto3.session.Session()
        resources = create_resources(config, session=session, visibility_timeout_seconds=settings.visibility_seconds, event_sources=True)
        settings.keep_port_slots()
        seed_secrets(settings, session, resources)
        self.stack_name = register_stack(settings, resources, session)
        self.resources = resources
        python = sys.executable
        functions: dict[str, RemoteFunction] = {}
        for spec in config.functions:
            port = settings.host_port(spec.name)
            # As deployed: a worker is capped at its reserved concurrency (beyond it Lambda
            # answers 429); the API function may scale to the account's limit.
            concurrency = spec.reserved or LAMBDA_ACCOUNT_CONCURRENCY
            self.spawn(
                spec.name,
                [python, "-m", "devstack.runtime.host", spec.name, "--port", str(port), "--timeout", str(spec.timeout_seconds),
                 "--concurrency", str(concurrency), "--memory", str(spec.memory_mb)],
                function_environment(settings, spec.name, resources),
            )
            functions[spec.name] = RemoteFunction(spec.name, port, spec.timeout_seconds)
        for name in functions:
            wait_until(lambda n=name: http_ok(settings.url(settings.host_port(n))), f"function {name}", timeout=120)

        self.servers.append(
            LambdaHttpServer(api_router(functions), kind="http_api", port=settings.api_port, cors_origins=config.api_cors_origins).start()
        )
        for spec in config.workers:
            function = functions[spec.name]
            # The event source mapping receives and deletes with the function's own role.
            sqs = session.client("sqs", **function_credentials(spec.name))
            self.servers.append(
                LambdaHttpServer(_every_path_to(function), kind="function_url", port=settings.function_url_port(spec.name)).start()
            )
            queues = resources.queues[spec.name]
            self.pollers.append(SqsPoller(sqs, queues.queue_url, function, batch_size=spec.batch_size, max_concurrency=spec.max_concurrency,
                                          enabled=mapping_enabled(session.client("lambda"), queues.event_source_mapping)).start())

    def stop_functions(self) -> None:
        """Event sources, then the gateway and Function URLs, then the functions' environments;
        local AWS and QStash keep running (and keep what they hold)."""
        for poller in self.pollers:
            poller.request_stop()
        for poller in self.pollers:
            poller.stop()
        for server in self.servers:
            server.stop()
        self.pollers, self.servers = [], []
        self._end([self.children.pop(spec.name) for spec in self.settings.config.functions if spec.name in self.children])

    def reload(self) -> None:
        """`courier dev reload`: the worker folders read again and every function started anew
        on them, at the same ports; a new worker gets its queues, Function URL and ports.
        Jobs, keys, schedules and messages stay: local AWS and QStash are not restarted. A
        delivery cut off mid-run is retried, as after any crash."""
        self.ready = False
        self.write_state()
        self.stop_functions()
        self.settings = replace(self.settings, config=current_config(self.settings.context))
        self.start_functions()
        self.reloads += 1
        self.ready = True
        self.write_state()
        logger.info("reloaded: %s", ", ".join(f.name for f in self.settings.config.functions))

    def watch(self) -> None:
        """Start a function's environment again when it dies, as Lambda starts a new one."""
        while not self.stopping.wait(0.2):
            if self.reload_requested.is_set():
                self.reload_requested.clear()
                self.reload()
            changed = False
            functions = {f.name for f in self.settings.config.functions}
            for name, process in list(self.children.items()):
                if process.poll() is None or name not in functions:
                    continue
                logger.warning("%s's environment exited (%s); starting a new one", name, process.returncode)
                self.restarts[name] = self.restarts.get(name, 0) + 1
                self.spawn(name, *self.commands[name])
                changed = True
            if changed:
                self.write_state()

    def stop(self) -> None:
        began = time.monotonic()
        self.stop_functions()
        logger.info("functions stopped in %.1f s", time.monotonic() - began)
        self._end(list(self.children.values()))
        self.settings.state_file.unlink(missing_ok=True)
        logger.info("stopped in %.1f s", time.monotonic() - began)

    @staticmethod
    def _end(processes: list[subprocess.Popen[bytes]]) -> None:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 10
        for process in processes:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)

    # -- state ---------------------------------------------------------------------------
    def write_state(self) -> None:
        s = self.settings
        state = {
            "pid": os.getpid(),
            "ready": self.ready,
            "reloads": self.reloads,
            # What `courier dev up` compares with the files to know a reload is due.
            "jobTypes": {w.name: list(w.job_types) for w in s.config.workers},
            "directory": str(s.directory.resolve()),
            "settings": s.to_args(),
            "urls": {
                "api": s.api_url,
                "docs": s.api_url + "/docs",
                "qstash": s.qstash_url,
                "aws": s.aws_url,
                "functionUrls": {w.name: s.function_url(w.name) for w in s.config.workers},
            },
            "processes": {name: process.pid for name, process in self.children.items()},
            "restarts": self.restarts,
            "resources": {
                "table": self.resources.table_name,
                "bucket": self.resources.bucket_name,
                "queues": {name: q.queue_url for name, q in self.resources.queues.items()},
                "deadLetterQueues": {name: q.dead_letter_queue_url for name, q in self.resources.queues.items()},
                "sourcesKey": self.resources.sources_key,
            },
            "logs": str(s.logs.resolve()),
            "apiKeyFile": str(s.api_key_file.resolve()),
            # `courier keys|doctor --stack <name>` with these AWS settings reach this stack.
            "stack": {"name": self.stack_name, "environment": aws_environment(s)},
        }
        temporary = s.state_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(state, indent=2))
        temporary.replace(s.state_file)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack.supervisor")
    DevSettings.add_arguments(parser)
    settings = DevSettings.from_args(parser.parse_args(argv))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("devstack.runtime").setLevel(logging.WARNING)
    supervisor = Supervisor(settings)
    freeze_survivors()
    signal.signal(signal.SIGTERM, lambda *_: supervisor.stopping.set())
    signal.signal(signal.SIGINT, lambda *_: supervisor.stopping.set())
    signal.signal(signal.SIGHUP, lambda *_: supervisor.reload_requested.set())
    try:
        supervisor.start()
        logger.info("ready: API %s", supervisor.settings.api_url)
        supervisor.watch()
    except Exception:
        logger.exception("the local stack failed")
        raise
    finally:
        supervisor.stop()


if __name__ == "__main__":
    main()
