"""`courier doctor [--url URL --key KEY | --stack NAME]`: prove a deployment works, end to end,
in under a minute, and name the part that does not. Without either it proves the local stack
while `courier dev up` runs (as every command finds it), else the stack `cdk deploy` made.

It asks the deployment what it sees (`GET /healthz`: table, bucket, job types, QStash
secret, token and signing keys), then uses it as an app would: a `text.hash` job through
QStash and one forced onto SQS (both checked against the digest computed here), the
outcome callback received by a temporary receiver (when the deployment can reach one),
an upload through a presigned URL read back by a job, and the router's models.
With `--stack` (or the local stack), the API URL and table come from the stack's outputs
(or the local stack's state) and a temporary API key is made for the run and revoked after it.
"""

from __future__ import annotations

import argparse
import hashlib
import http.server
import ipaddress
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from courier_cli.stack import StackNotFound, StackOutputs, default_stack
from courier_cli.target import local_stack

Status = Literal["pass", "warn", "fail", "skip"]
#: Seconds a doctor's job may take to finish (a cold start of the worker included).
JOB_TIMEOUT = 40.0
DOCTOR_TENANT = "courier-doctor"
_HEALTH_STATUS: dict[str, Status] = {"ok": "pass", "warn": "warn", "fail": "fail"}


@dataclass(frozen=True)
class Row:
    check: str
    status: Status
    detail: str
    fix: str | None = None


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("doctor", help="prove a deployment works end to end, and say what to fix")
    where = parser.add_argument_group("which deployment (one of)")
    where.add_argument("--stack", help=f"a deployed stack (its outputs; a temporary API key) (default: $COURIER_STACK or {default_stack()})")
    where.add_argument("--url", help="the HTTP API's URL (the ApiUrl output), with --key")
    where.add_argument("--key", default=os.environ.get("COURIER_API_KEY"), help="an API key (default: $COURIER_API_KEY)")
    where.add_argument("--dev-dir", help="the local stack's folder (default: $COURIER_DEV_DIR, else .devstack)")
    parser.add_argument("--callback-url", help="a public URL that reaches --callback-port here (a tunnel), for the callback check")
    parser.add_argument("--callback-port", type=int, default=0, help="where the temporary receiver listens (default: any free port)")
    parser.add_argument("--timeout", type=float, default=JOB_TIMEOUT, help="seconds each job may take")
    parser.add_argument("--json", action="store_true", help="the rows as JSON")


def run(args: argparse.Namespace) -> int:
    rows: list[Row] = []
    revoke: Callable[[], None] | None = None
    try:
        if args.url:
            if not args.key:
                print("courier doctor: --url needs --key (or COURIER_API_KEY)", file=sys.stderr)
                return 2
            api_url, key = args.url.rstrip("/"), args.key
        elif (local := local_stack(args)) is not None:
            api_url, key, revoke = _temporary_key("the local stack", local.table_name, local.api, rows)
        else:
            name = args.stack or default_stack()
            outputs = StackOutputs.read(name)
            api_url, key, revoke = _temporary_key(f"{name} in {outputs.region}", outputs.table_name, outputs.api_url, rows)
        with CallbackReceiver(args.callback_port) as receiver:
            callback_url = args.callback_url or (receiver.url if _is_loopback(api_url) else None)
            rows += Doctor(api_url, key, receiver=receiver, callback_url=callback_url, timeout=args.timeout).run()
    except StackNotFound as error:
        rows.append(Row("stack", "fail", str(error)))
    finally:
        if revoke:
            revoke()
    _report(rows, as_json=args.json)
    return 1 if any(row.status == "fail" for row in rows) else 0


def _temporary_key(where: str, table_name: str, api_url: str, rows: list[Row]) -> tuple[str, str, Callable[[], None]]:
    from courier.auth.api_keys import ApiKeyStore

    store = ApiKeyStore(table_name)
    record, secret = store.create(DOCTOR_TENANT, "courier doctor (temporary)")
    rows.append(Row("stack", "pass", f"{where}: {api_url}; temporary key {record.key_id}"))
    def revoke() -> None:
        store.revoke(record.key_id)

    return api_url, secret, revoke


class Doctor:
    def __init__(self, api_url: str, key: str, *, receiver: CallbackReceiver, callback_url: str | None, timeout: float) -> None:
        self.api_url = api_url
        self.http = httpx.Client(base_url=api_url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
        self.receiver = receiver
        self.callback_url = callback_url
        self.timeout = timeout

    def run(self) -> list[Row]:
        started = time.monotonic()
        rows = self.health()
        if any(row.check in ("api", "auth") and row.status == "fail" for row in rows):
            return rows
        with ThreadPoolExecutor(4) as pool:  # the slow parts wait side by side
            parts = [pool.submit(self.jobs), pool.submit(self.upload), pool.submit(self.models)]
            for part in parts:
                rows += part.result()
        rows.append(Row("total", "pass", f"{time.monotonic() - started:.1f} s"))
        return rows

    # --- what the deployment sees --------------------------------------------------
    def health(self) -> list[Row]:
        try:
            response = self.http.get("/healthz")
        except httpx.HTTPError as error:
            return [Row("api", "fail", f"no answer from {self.api_url}: {type(error).__name__}: {error}", "check the URL (the stack's ApiUrl output)")]
        try:
            report = response.json()
            checks = report["checks"]
        except (ValueError, KeyError, TypeError):
            return [Row("api", "fail", f"GET /healthz answered {response.status_code} without a health report: not a Courier API?")]
        rows = [Row("api", "pass", f"{self.api_url} (Courier {report.get('version', '?')})")]
        rows += [Row(f"config: {c['name']}", _HEALTH_STATUS.get(c["status"], "fail"), c.get("detail", ""), c.get("fix")) for c in checks]
        auth = self.http.get("/v1/jobs", params={"limit": 1})
        if auth.status_code == 401:
            rows.append(Row("auth", "fail", "the API key was refused", "create one: courier keys create --tenant <tenant>"))
        elif auth.status_code != 200:
            rows.append(Row("auth", "fail", f"GET /v1/jobs answered {auth.status_code}: {_error(auth)}"))
        else:
            rows.append(Row("auth", "pass", "the API key is accepted"))
        return rows

    # --- jobs on both queues, and the callback ----------------------------------------
    def jobs(self) -> list[Row]:
        nonce = uuid.uuid4().hex
        with ThreadPoolExecutor(2) as pool:
            by_qstash = pool.submit(self._hash_job, "qstash", f"courier doctor {nonce} qstash", self.callback_url)
            by_sqs = pool.submit(self._hash_job, "sqs", f"courier doctor {nonce} sqs", None)
            qstash_row, qstash_job = by_qstash.result()
            sqs_row, _ = by_sqs.result()
        return [qstash_row, sqs_row, self._callback(qstash_job)]

    def _hash_job(self, transport: str, text: str, callback_url: str | None) -> tuple[Row, dict[str, Any] | None]:
        check = f"job via {'QStash' if transport == 'qstash' else 'SQS'}"
        body: dict[str, Any] = {"type": "text.hash", "input": {"text": text}, "transport": transport}
        if callback_url:
            body["callbackUrl"] = callback_url
        expected = hashlib.sha256(text.encode()).hexdigest()
        return self._run_job(check, body, lambda result: result.get("digest") == expected, transport)

    def _run_job(
        self, check: str, body: dict[str, Any], result_ok: Callable[[dict[str, Any]], bool], transport: str | None,
    ) -> tuple[Row, dict[str, Any] | None]:
        started = time.monotonic()
        response = self.http.post("/v1/jobs", json=body)
        if response.status_code != 202:
            fix = "QStash did not take the job: see the config: qstash_* rows, and status.upstash.com" if transport == "qstash" else None
            return Row(check, "fail", f"not accepted ({response.status_code}): {_error(response)}", fix), None
        job_id = response.json()["jobId"]
        job = self._wait(job_id)
        elapsed = time.monotonic() - started
        if job is None:
            return Row(check, "fail", f"{job_id} not finished after {self.timeout:.0f} s", _stuck_fix(transport)), None
        if job["status"] != "succeeded":
            error = job.get("error") or {}
            return Row(check, "fail", f"{job_id} {job['status']}: {error.get('code')}: {error.get('message')}"), job
        if transport and job.get("transport") != transport:
            return Row(check, "fail", f"{job_id} went by {job.get('transport')}: {job.get('fallbackReason', '')}"), job
        if not result_ok(job.get("result") or {}):
            return Row(check, "fail", f"{job_id} succeeded with a wrong result: {job.get('result')}"), job
        return Row(check, "pass", f"{job_id} succeeded in {elapsed:.1f} s, result checked"), job

    def _wait(self, job_id: str) -> dict[str, Any] | None:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            job = self._job(job_id)
            if job is not None and job["status"] in ("succeeded", "failed", "dead", "cancelled"):
                return job
            time.sleep(0.25)
        return None

    def _callback(self, job: dict[str, Any] | None) -> Row:
        if not self.callback_url:
            return Row("callback", "skip", "no address the deployment can reach on this machine",
                       "pass --callback-url https://<tunnel> forwarding to --callback-port")
        if job is None:
            return Row("callback", "skip", "the QStash job did not succeed")
        received = self.receiver.wait_for(job["jobId"], timeout=15)
        if received is None:
            delivery = (self._job(job["jobId"]) or {}).get("callbackDelivery") or {}
            return Row("callback", "fail", f"nothing received in 15 s (callbackDelivery: {delivery or 'none'})")
        if received.payload.get("status") != "succeeded":
            return Row("callback", "fail", f"received {received.payload}")
        return Row("callback", "pass", f"received for {job['jobId']}, {_signature_note(received, self.callback_url)}")

    def _job(self, job_id: str) -> dict[str, Any] | None:
        response = self.http.get(f"/v1/jobs/{job_id}")
        return dict(response.json()) if response.status_code == 200 else None

    # --- upload, read back by a job ---------------------------------------------------
    def upload(self) -> list[Row]:
        data = f"courier doctor upload {uuid.uuid4().hex}\n".encode()
        response = self.http.post("/v1/uploads", json={"contentType": "text/plain", "sizeBytes": len(data), "filename": "doctor.txt"})
        if response.status_code != 200:
            return [Row("upload", "fail", f"POST /v1/uploads answered {response.status_code}: {_error(response)}")]
        upload = response.json()
        try:
            put = httpx.put(upload["uploadUrl"], content=data, headers=upload["headers"], timeout=30)
        except httpx.HTTPError as error:
            return [Row("upload", "fail", f"PUT to the presigned URL failed: {type(error).__name__}: {error}")]
        if put.status_code != 200:
            return [Row("upload", "fail", f"S3 answered the presigned PUT with {put.status_code}: {put.text[:300]}")]
        expected = hashlib.sha256(data).hexdigest()
        row, _ = self._run_job("upload read back", {"type": "text.hash", "input": {"uploadKey": upload["key"]}},
                               lambda result: result.get("digest") == expected, None)
        return [Row("upload", "pass", f"presigned PUT of {len(data)} bytes to {upload['key']}"), row]

    # --- the router ------------------------------------------------------------------------
    def models(self) -> list[Row]:
        response = self.http.get("/v1/models")
        if response.status_code != 200:
            return [Row("router", "fail", f"GET /v1/models answered {response.status_code}: {_error(response)}")]
        deployments = response.json().get("deployments", [])
        configured = [d["name"] for d in deployments if d.get("configured")]
        if not configured:
            fix = ("set AZURE_AI_FOUNDRY_ENDPOINT (and COURIER_AI_CATALOG for other servers) before courier dev up, "
                   "or run make demo, which starts a stand-in model server") if _is_loopback(self.api_url) else \
                "deploy with -c aiFoundryEndpoint=… and put the key in the model-keys secret"
            return [Row("router", "warn", f"{len(deployments)} deployments listed, none configured", fix)]
        return [Row("router", "pass", f"{len(configured)} of {len(deployments)} deployments configured: {', '.join(configured)}")]


def _stuck_fix(transport: str | None) -> str:
    if transport == "qstash":
        return "QStash took it but the worker did not finish: check the worker's logs (a 401 means the signing keys or the worker URL parameter)"
    return "check the worker's logs and its queue's event source mapping"


def _signature_note(received: Callback, url: str) -> str:
    """Verified with the signing keys when this shell has them (QSTASH_*_SIGNING_KEY)."""
    from courier.errors import CourierError
    from courier.secrets import QStashCredentials
    from courier.signatures import SignatureVerifier

    signature = received.headers.get("upstash-signature")
    if not signature:
        return "unsigned"
    current, next_ = os.environ.get("QSTASH_CURRENT_SIGNING_KEY"), os.environ.get("QSTASH_NEXT_SIGNING_KEY")
    if not (current and next_):
        return "signed (set QSTASH_CURRENT_SIGNING_KEY and QSTASH_NEXT_SIGNING_KEY to verify it)"
    verifier = SignatureVerifier(lambda: QStashCredentials(None, current, next_))
    try:
        verifier.verify(signature=signature, body=received.raw, url=url)
    except CourierError as error:
        return f"signature INVALID: {error.message}"
    return "signature verified"


def _error(response: httpx.Response) -> str:
    try:
        error = response.json()["error"]
        return f"{error['code']}: {error['message']}"
    except (ValueError, KeyError, TypeError):
        return response.text[:200]


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _report(rows: list[Row], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps([asdict(row) for row in rows], indent=2))
        return
    marks = {"pass": "ok  ", "warn": "WARN", "fail": "FAIL", "skip": "skip"}
    width = max((len(row.check) for row in rows), default=5)
    for row in rows:
        print(f"{marks[row.status]}  {row.check:<{width}}  {row.detail}")
        if row.fix and row.status != "pass":
            print(f"{'':4}  {'':<{width}}  fix: {row.fix}")
    failed = [row.check for row in rows if row.status == "fail"]
    print("\n" + (f"{len(failed)} failed: {', '.join(failed)}" if failed else "all checks passed"))


@dataclass(frozen=True)
class Callback:
    headers: dict[str, str]
    raw: bytes
    payload: dict[str, Any]


class CallbackReceiver:
    """A one-off HTTP server for the outcome callback (loopback, or behind a tunnel)."""

    def __init__(self, port: int = 0) -> None:
        self._received: dict[str, Callback] = {}
        self._arrived = threading.Condition()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    payload = dict(json.loads(raw))
                except (ValueError, TypeError):
                    payload = {}
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                with receiver._arrived:
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    receiver._received[str(payload.get("jobId"))] = Callback(headers, raw, payload)
                    receiver._arrived.notify_all()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/courier-doctor/callback"

    def __enter__(self) -> CallbackReceiver:
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait_for(self, job_id: str, timeout: float) -> Callback | None:
        with self._arrived:
            self._arrived.wait_for(lambda: job_id in self._received, timeout)
            return self._received.get(job_id)
