"""Local AWS that keeps DynamoDB's promise: moto in server mode, one request at a time.

moto serves every request on its own thread and evaluates a condition expression and
applies the update without a lock (its FAQ: "Is Moto concurrency safe? No"), so two
concurrent conditional writes can both succeed, which DynamoDB never allows. Every
request here runs under one lock, and its response body is read out under the lock too
(a WSGI body may be produced lazily), so each request is atomic as the real service's
are. moto is GIL-bound, so the lock costs little throughput.

Its DynamoDB transactions cost what their items do, not their tables
(devstack/dynamodb_transactions.py); its SQS standard queues are fair queues, as AWS's are
(devstack/sqs_fair_queues.py); its event source mappings are records the local runtime
obeys, never run by moto (devstack/sqs_event_sources.py).

The test fixtures (in-process, `LocalAws(...).start()`) and the local stack
(`python -m devstack.local_aws --port P`) both serve moto from here, and nowhere else.
"""

from __future__ import annotations

import argparse
import io
import json
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from devstack import dynamodb_transactions, sqs_event_sources, sqs_fair_queues
from devstack.long_lived import freeze_survivors

Environ = dict[str, Any]
StartResponse = Callable[..., Any]


class SerializedApp:
    """A WSGI app that lets one request in at a time, start to last byte; with `audit`, it
    also writes each local function's calls, as IAM requests, to that file (JSON lines)."""

    def __init__(self, app: Callable[[Environ, StartResponse], Iterable[bytes]], audit: Path | None = None) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._audit = audit
        self._audit_lock = threading.Lock()

    def _record(self, environ: Environ) -> None:
        from devstack.aws_audit import iam_calls, principal_and_service

        if principal_and_service(environ) is None:
            return
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)  # moto reads it again
        lines = "".join(json.dumps(call) + "\n" for call in iam_calls(environ, body))
        with self._audit_lock, self._audit.open("a") as log:  # type: ignore[union-attr]
            log.write(lines)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if self._audit is not None:
            self._record(environ)
        if _long_poll(environ):
            # SQS ReceiveMessage waits (up to 20 s) for a message: under the lock it would
            # stall everything else. SQS promises at-least-once delivery, not exclusivity,
            # and the job record (DynamoDB, always serialised) decides who runs a job.
            return self._app(environ, start_response)
        with self._lock:
            result = self._app(environ, start_response)
            try:
                body = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        return [body]


class _QuietHandler(MotoRequestHandler):
    """No line per request: a load test makes hundreds of thousands. No Nagle: a small
    answer's last write would wait for the client's delayed ACK."""

    disable_nagle_algorithm = True

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def _long_poll(environ: Environ) -> bool:
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    return target == "AmazonSQS.ReceiveMessage" or "Action=ReceiveMessage" in environ.get("QUERY_STRING", "")


def moto_app(audit: Path | None = None) -> SerializedApp:
    dynamodb_transactions.install()
    sqs_fair_queues.install()
    sqs_event_sources.install()
    return SerializedApp(DomainDispatcherApplication(create_backend_app), audit)


class LocalAws:
    """moto on `host:port` (0 = a free port), served from a background thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, audit: Path | None = None) -> None:
        self._server: BaseWSGIServer = make_server(host, port, moto_app(audit), threaded=True, request_handler=_QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-aws", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{port}"

    def start(self) -> LocalAws:
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack.local_aws", description="Local AWS (moto), atomic per request.")
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    parser.add_argument("--audit", type=Path, help="write each local function's AWS calls here (JSON lines)")
    args = parser.parse_args(argv)
    freeze_survivors()
    try:
        LocalAws(args.host, args.port, args.audit).serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
