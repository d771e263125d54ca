"""One Lambda execution environment: `python -m devstack.runtime.host NAME --port P
--timeout S --concurrency N --memory MB` imports the function's real handler (its cold
start) and serves the Lambda Invoke API on loopback.

Like Lambda, it logs START / END / REPORT lines per invocation, answers 429 when every
concurrent slot is busy, and when an invocation times out it answers with
Sandbox.Timedout and ends the process: the supervisor starts a fresh environment, so a
runaway handler never keeps running next to the retry.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import threading
import time
import uuid
from http.server import ThreadingHTTPServer
from typing import Any

from devstack.runtime.invoke import LocalFunction, Throttled, TimedOut
from devstack.runtime.loopback_http import LoopbackHandler
from devstack.runtime.remote import INVOKE_PATH


def serve(function: LocalFunction, port: int) -> ThreadingHTTPServer:
    path = INVOKE_PATH.format(name=function.name)

    class Handler(LoopbackHandler):

        def do_GET(self) -> None:  # health: the environment is initialised
            self._answer(200, {"function": function.name, "pid": os.getpid()})

        def do_POST(self) -> None:
            if self.path != path:
                self._answer(404, {"message": f"no function at {self.path}"})
                return
            event = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            request_id = str(uuid.uuid4())
            print(f"START RequestId: {request_id}", flush=True)
            began = time.monotonic()
            try:
                result = function.invoke(event)
            except Throttled:
                print(f"THROTTLED RequestId: {request_id}", flush=True)
                self._answer(429, {"Type": "User", "message": "Rate Exceeded."})
                return
            except TimedOut as error:
                self._report(request_id, began, "timed out")
                self._answer(200, {"errorType": "Sandbox.Timedout", "errorMessage": str(error)}, function_error=True)
                # Lambda discards a timed-out environment; the supervisor starts another.
                threading.Timer(0.2, os._exit, args=(1,)).start()
                return
            except Exception as error:  # noqa: BLE001 - an unhandled error, reported as Lambda does
                self._report(request_id, began, f"{type(error).__name__}: {error}")
                self._answer(200, {"errorType": type(error).__name__, "errorMessage": str(error)}, function_error=True)
                return
            self._report(request_id, began, None)
            self._answer(200, result)

        def _report(self, request_id: str, began: float, error: str | None) -> None:
            print(f"END RequestId: {request_id}", flush=True)
            outcome = f"\tError: {error}" if error else ""
            print(f"REPORT RequestId: {request_id}\tDuration: {(time.monotonic() - began) * 1000:.2f} ms{outcome}", flush=True)

        def _answer(self, status: int, payload: Any, function_error: bool = False) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if function_error:
                self.send_header("X-Amz-Function-Error", "Unhandled")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    return server


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack.runtime.host")
    parser.add_argument("name")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--timeout", type=float, required=True)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--memory", type=int, default=512)
    args = parser.parse_args()
    began = time.monotonic()
    handler = importlib.import_module(f"functions.{args.name}.handler").handler
    print(f"INIT {args.name}: {(time.monotonic() - began) * 1000:.0f} ms (pid {os.getpid()})", flush=True)
    function = LocalFunction(args.name, handler, timeout_seconds=args.timeout, max_concurrency=args.concurrency, memory_mb=args.memory)
    server = serve(function, args.port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
