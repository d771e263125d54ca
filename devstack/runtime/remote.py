"""A function that runs in its own process (devstack.runtime.host), invoked over the
Lambda Invoke API's shape, as the Lambda service invokes an execution environment.

It quacks like LocalFunction (name, invoke), so the Function URL, API Gateway and SQS
front doors work with either: in-process for tests, a process per function for the
local stack, where a worker can be killed and comes back as a new environment.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from devstack.runtime.invoke import Throttled, TimedOut

INVOKE_PATH = "/2015-03-31/functions/{name}/invocations"
#: How long an invocation waits for an environment that is (re)starting: its cold start.
INIT_WAIT_SECONDS = 30.0


class FunctionError(Exception):
    """The handler raised, or its execution environment died mid-invocation."""


@dataclass
class RemoteFunction:
    name: str
    port: int
    timeout_seconds: float

    def invoke(self, event: dict[str, Any], *, wait_for_slot: bool = False) -> Any:
        """Like Lambda: an environment that is starting is waited for (up to its init
        time); one that dies mid-invocation fails that invocation."""
        starting_until = time.monotonic() + INIT_WAIT_SECONDS
        while True:
            try:
                return self._invoke_once(event)
            except Throttled:
                if not wait_for_slot:
                    raise
                time.sleep(0.05)
            except ConnectionRefusedError:
                if time.monotonic() > starting_until:
                    raise FunctionError(f"{self.name}: no execution environment came up") from None
                time.sleep(0.1)

    def _invoke_once(self, event: dict[str, Any]) -> Any:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{INVOKE_PATH.format(name=self.name)}",
            data=json.dumps(event).encode(),
            headers={"content-type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds + 10) as response:
                payload = json.loads(response.read() or b"null")
                function_error = response.headers.get("X-Amz-Function-Error")
        except urllib.error.HTTPError as error:
            if error.code == 429:
                raise Throttled(self.name) from None
            raise FunctionError(f"{self.name}: invoke answered {error.code}") from None
        except urllib.error.URLError as error:
            if isinstance(error.reason, ConnectionRefusedError):
                raise error.reason from None
            raise FunctionError(f"{self.name}: the execution environment went away ({error.reason})") from None
        except (OSError, ValueError) as error:  # refused, reset, or cut off: the environment died
            raise FunctionError(f"{self.name}: the execution environment went away ({error})") from None
        if function_error:
            if payload.get("errorType") == "Sandbox.Timedout":
                raise TimedOut(payload.get("errorMessage", "timed out"))
            raise FunctionError(f"{self.name}: {payload.get('errorType')}: {payload.get('errorMessage')}")
        return payload
