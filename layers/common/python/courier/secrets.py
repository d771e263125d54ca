"""Secrets at run time: read by reference, cached across warm invocations.

CDK hands a function only a reference (`secretsmanager:<name>` or `ssm:<name>`); the value
is fetched here with Powertools Parameters, which caches it, so a warm invocation costs
no API call. Locally (and for users of Upstash's usual variable names) the QStash
values may come straight from the environment instead.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from courier.errors import Misconfigured
from courier.settings import QStashSettings

CACHE_SECONDS = 300
#: Powertools builds its provider (and a boto3 client) on the first call; threads that
#: call at once would each build one. Cached reads under the lock take microseconds.
_reading = threading.Lock()


def load_json_secret(reference: str) -> dict[str, Any]:
    # Imported here: only invocations that need a secret pay for boto3's import.
    from aws_lambda_powertools.utilities import parameters

    kind, _, name = reference.partition(":")
    if kind not in ("secretsmanager", "ssm"):
        raise Misconfigured(f"unknown secret reference kind {kind!r} (want secretsmanager: or ssm:)")
    try:
        with _reading:
            if kind == "secretsmanager":
                value = parameters.get_secret(name, transform="json", max_age=CACHE_SECONDS)
            else:
                value = parameters.get_parameter(name, decrypt=True, transform="json", max_age=CACHE_SECONDS)
    except parameters.exceptions.GetParameterError as error:
        # Throttled or unreachable as often as missing: the next delivery may read it.
        raise Misconfigured(f"cannot read secret {name}: {error}", retryable=True) from None
    if not isinstance(value, dict):
        raise Misconfigured(f"secret {name} must hold a JSON object")
    return value


def load_parameter(name: str) -> str:
    from aws_lambda_powertools.utilities import parameters

    try:
        with _reading:
            value = parameters.get_parameter(name, max_age=3600)
    except parameters.exceptions.GetParameterError as error:
        raise Misconfigured(f"cannot read parameter {name}: {error}", retryable=True) from None
    if not isinstance(value, str) or not value:
        raise Misconfigured(f"SSM parameter {name} is empty")
    return value


@dataclass(frozen=True)
class QStashCredentials:
    token: str | None
    current_signing_key: str
    next_signing_key: str

    def __repr__(self) -> str:  # never let a key reach a log line
        return "QStashCredentials(<redacted>)"


def qstash_credentials(env: QStashSettings | None = None) -> QStashCredentials:
    """From QSTASH_* variables if set, else from the secret at QSTASH_SECRET_REF.

    The secret holds `{"token", "currentSigningKey", "nextSigningKey"}`.
    """
    env = env or QStashSettings.from_env()
    if env.current_signing_key and env.next_signing_key:
        return QStashCredentials(env.qstash_token, env.current_signing_key, env.next_signing_key)
    reference = env.qstash_secret_ref
    if not reference:
        raise Misconfigured("no QStash signing keys: set QSTASH_SECRET_REF or QSTASH_CURRENT/NEXT_SIGNING_KEY")
    value = load_json_secret(reference)
    try:
        return QStashCredentials(
            token=value.get("token") or None,
            current_signing_key=value["currentSigningKey"],
            next_signing_key=value["nextSigningKey"],
        )
    except KeyError as missing:
        raise Misconfigured(f"the QStash secret lacks {missing.args[0]!r}") from None
