"""What a deployment needs to work, checked from inside it (`GET /healthz`, `courier doctor`).

A first deploy usually "works" with its secrets missing: jobs fall back to SQS and
callbacks cannot be signed, each only a log line. These checks say what is wrong and
how to fix it, from the function's own role and network, so they see what it sees.
Every check is cheap (one item read, one cached secret, one QStash call) and the report
is cached briefly, so the public endpoint cannot be used to hammer dependencies.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from courier.errors import CourierError

Status = Literal["ok", "warn", "fail"]
#: Seconds one report is reused for unauthenticated callers: a health poller every
#: second costs one round of checks per 30 s. A caller with an API key gets a fresh one
#: (at most one round per FRESH_SECONDS), so `courier doctor` sees a fault as it happens.
CACHE_SECONDS = 30.0
FRESH_SECONDS = 2.0


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str | None = None

    def to_dict(self, *, detailed: bool) -> dict[str, Any]:
        """Without `detailed` (an unauthenticated caller), only the verdict: error text can
        name accounts, roles and resources."""
        if not detailed:
            return {"name": self.name, "status": self.status}
        return {"name": self.name, "status": self.status, "detail": self.detail, **({"fix": self.fix} if self.fix else {})}


def run(checks: Mapping[str, Callable[[], Check]]) -> list[Check]:
    """Every check runs; one that raises is a failure named after it, never a 500."""
    results = []
    for name, check in checks.items():
        try:
            results.append(check())
        except CourierError as error:
            results.append(Check(name, "fail", error.message))
        except Exception as error:  # a dependency's own exception types
            results.append(Check(name, "fail", f"{type(error).__name__}: {error}"[:500]))
    return results


def overall(checks: Iterable[Check]) -> Status:
    statuses = {check.status for check in checks}
    return "fail" if "fail" in statuses else "warn" if "warn" in statuses else "ok"


class CachedReport:
    def __init__(self, build: Callable[[], list[Check]], *, ttl: float = CACHE_SECONDS) -> None:
        self._build, self._ttl = build, ttl
        self._lock = threading.Lock()
        self._value: tuple[float, list[Check]] | None = None

    def __call__(self, *, max_age: float | None = None) -> list[Check]:
        limit = self._ttl if max_age is None else max_age
        with self._lock:
            if self._value is None or time.monotonic() - self._value[0] > limit:
                self._value = (time.monotonic(), self._build())
            return self._value[1]


# --- the checks -------------------------------------------------------------------------
def table_check(table_name: str, read: Callable[[], Any]) -> Check:
    if not table_name:
        return Check("table", "fail", "TABLE_NAME is not set", "deploy with CDK, which sets it")
    read()
    return Check("table", "ok", f"{table_name} readable")


def signing_keys_check(configured: tuple[str, str], qstash_keys: Callable[[], tuple[str, str]]) -> Check:
    """The keys in the secret against the ones QStash signs with (read with the token).

    Workers accept a signature made with either of the secret's keys, so after a rotation
    in the Upstash console the old pair keeps working for one more rotation: a warning.
    """
    actual = qstash_keys()
    if set(actual) == set(configured):
        return Check("qstash_signing_keys", "ok", "the secret's signing keys are QStash's")
    fix = "copy the current and next signing keys from the Upstash console into the QStash secret"
    if set(actual) & set(configured):
        return Check("qstash_signing_keys", "warn", "QStash rotated its signing keys since the secret was written", fix)
    return Check("qstash_signing_keys", "fail", "the secret's signing keys are not the ones QStash signs with: workers reject every delivery", fix)


def routes_check(routes: Mapping[str, Any], mode: str) -> Check:
    if not routes:
        return Check("job_types", "fail", "no job type is routed to a worker (COURIER_JOB_TYPES is empty)", "deploy with CDK, which sets it")
    missing = sorted(t for t, r in routes.items() if not r.queue_url or (mode != "sqs" and not r.url))
    if missing:
        return Check("job_types", "fail", f"job types without a queue: {', '.join(missing)}")
    return Check("job_types", "ok", f"{len(routes)} job types: {', '.join(sorted(routes))} ({mode} dispatch)")


def jobs_api_checks(
    *,
    table_name: str,
    read_table: Callable[[], Any],
    bucket_name: str | None,
    public_api_url: str,
    routes: Mapping[str, Any],
    mode: str,
    credentials: Callable[[], Any],
    qstash: Callable[[], Any],
) -> dict[str, Callable[[], Check]]:
    """What the jobs API needs. In `sqs` dispatch mode QStash only carries callbacks, so a
    QStash problem there is a warning, not a failure."""
    secret_fix = 'create the QStash secret: {"token", "currentSigningKey", "nextSigningKey"} (README, "Deploying")'

    def qstash_secret() -> Check:
        try:
            found = credentials()
        except CourierError as error:
            return Check("qstash_secret", "fail", error.message, secret_fix)
        if not found.token:
            return Check("qstash_secret", "fail", "the QStash secret has no token: every job goes by SQS", secret_fix)
        return Check("qstash_secret", "ok", "token and signing keys present")

    def signing_keys() -> Check:
        found = credentials()
        if not found.token:
            return Check("qstash_signing_keys", "fail", "no QStash token to check the signing keys with", secret_fix)
        keys = qstash().signing_key.get()
        return signing_keys_check((found.current_signing_key, found.next_signing_key), lambda: (keys.current, keys.next))

    def bucket() -> Check:
        if not bucket_name:
            return Check("bucket", "fail", "BUCKET_NAME is not set: uploads and large results cannot work", "deploy with CDK, which sets it")
        return Check("bucket", "ok", bucket_name)

    def public_url() -> Check:
        if not public_api_url:
            return Check("public_api_url", "warn", "PUBLIC_API_URL is not set: QStash cannot report jobs it gave up on")
        return Check("public_api_url", "ok", public_api_url)

    checks: dict[str, Callable[[], Check]] = {
        "table": lambda: table_check(table_name, read_table),
        "bucket": bucket,
        "job_types": lambda: routes_check(routes, mode),
        "public_api_url": public_url,
        "qstash_secret": qstash_secret,
        "qstash_signing_keys": signing_keys,
    }
    if mode == "sqs":
        for name in ("qstash_secret", "qstash_signing_keys"):
            checks[name] = _softened(name, checks[name])
    return checks


def _softened(name: str, check: Callable[[], Check]) -> Callable[[], Check]:
    def run_soft() -> Check:
        (result,) = run({name: check})
        return result if result.status != "fail" else Check(result.name, "warn", result.detail + " (callbacks only: jobs go by SQS)", result.fix)

    return run_soft
