"""Every AWS call a local function makes, as IAM sees it: who, which action, on what.

Each function of the local stack signs its requests with an access key of its own
(`local-<function>`), so local AWS can tell them apart; this module turns one request
(as moto's WSGI app receives it) into the IAM requests it stands for: the action IAM
authorises, the resource's ARN, and the condition keys the policies test (`s3:prefix`).
A transaction is one request but several actions (TransactWriteItems needs PutItem,
UpdateItem, ConditionCheckItem on each table), and each is recorded.

`tests/e2e` evaluates the log against each function's role in the synthesized template
(`tests/support/least_privilege.py`), so a missing grant fails a test here, not a deploy.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's
#: Local credentials a function signs with: `local-<function name>`.
FUNCTION_KEY_PREFIX = "local-"
#: A secret named without its ARN: Secrets Manager appends six random characters.
SECRET_SUFFIX = "-AbCdEf"

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
_TRANSACT_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
_SQS_BATCH = {"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage",
              "ChangeMessageVisibilityBatch": "ChangeMessageVisibility"}

Call = dict[str, Any]


def principal_and_service(environ: dict[str, Any]) -> tuple[str, str] | None:
    """(function, service) for a request a local function signed; None for anyone else's."""
    found = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    if found is None:
        query = parse_qs(environ.get("QUERY_STRING", ""))
        credential = (query.get("X-Amz-Credential") or [""])[0]
        found = _CREDENTIAL.search(f"Credential={credential}")
    if found is None or not found.group(1).startswith(FUNCTION_KEY_PREFIX):
        return None
    return found.group(1)[len(FUNCTION_KEY_PREFIX):], found.group(3)


def iam_calls(environ: dict[str, Any], body: bytes) -> list[Call]:
    """The IAM requests (action, resource, context) one signed request makes."""
    who = principal_and_service(environ)
    if who is None:
        return []
    function, service = who
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    operation = target.rpartition(".")[2]
    document = _json(body) if target else {}
    if service == "dynamodb":
        calls = _dynamodb(operation, document)
    elif service == "sqs":
        calls = _sqs(operation, document, environ)
    elif service == "s3":
        calls = _s3(environ)
    elif service == "secretsmanager":
        calls = [("secretsmanager:" + operation, _secret_arn(str(document.get("SecretId", ""))), {})]
    elif service == "ssm":
        calls = [("ssm:" + operation, _parameter_arn(str(document.get("Name", ""))), {})]
    elif service == "kms":  # Courier names the key on every call, Decrypt included
        calls = [("kms:" + operation, str(document.get("KeyId") or "*"), {})]
    else:
        calls = [(f"{service}:{operation or environ.get('REQUEST_METHOD', '?')}", "*", {})]
    return [{"function": function, "action": a, "resource": r, "context": c} for a, r, c in calls]


def _json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _table_arn(table: str, index: str | None = None) -> str:
    arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}"
    return f"{arn}/index/{index}" if index else arn


def _dynamodb(operation: str, document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    if operation in ("TransactWriteItems", "TransactGetItems"):
        calls: list[tuple[str, str, dict[str, Any]]] = []
        for item in document.get("TransactItems", []):
            for kind, spec in item.items():
                calls.append((f"dynamodb:{_TRANSACT_ACTIONS.get(kind, kind)}", _table_arn(spec.get("TableName", "")), {}))
        return calls
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [(f"dynamodb:{operation}", _table_arn(table), {}) for table in document.get("RequestItems", {})]
    return [(f"dynamodb:{operation}", _table_arn(str(document.get("TableName", "")), document.get("IndexName")), {})]


def _queue_arn(url: str) -> str:
    return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{urlsplit(url).path.rstrip('/').rpartition('/')[2]}"


def _sqs(operation: str, document: dict[str, Any], environ: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    if not operation:  # the query protocol (older botocore): Action= in the form or the query
        form = parse_qs(environ.get("QUERY_STRING", ""))
        operation = (form.get("Action") or ["?"])[0]
        document = {k: v[0] for k, v in form.items()}
    queue = document.get("QueueUrl") or document.get("QueueName", "")
    arn = _queue_arn(str(queue)) if "://" in str(queue) else f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue}"
    return [(f"sqs:{_SQS_BATCH.get(operation, operation)}", arn, {})]


def _s3(environ: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """S3's REST operations, path-style (the local endpoint is an address, not a name)."""
    method = environ.get("REQUEST_METHOD", "GET")
    path = unquote(environ.get("PATH_INFO", "/")).lstrip("/")
    bucket, _, key = path.partition("/")
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    if not key:
        if method == "GET" and not ({"location", "versioning", "policy", "acl", "tagging"} & set(query)):
            return [("s3:ListBucket", f"arn:aws:s3:::{bucket}", {"s3:prefix": (query.get("prefix") or [""])[0]})]
        return [(f"s3:{method}Bucket", f"arn:aws:s3:::{bucket}", {})]
    action = {"GET": "GetObject", "HEAD": "GetObject", "PUT": "PutObject", "POST": "PutObject", "DELETE": "DeleteObject"}.get(method, method)
    if method == "DELETE" and "uploadId" in query:
        action = "AbortMultipartUpload"
    return [(f"s3:{action}", f"arn:aws:s3:::{bucket}/{key}", {})]


def _secret_arn(secret_id: str) -> str:
    if secret_id.startswith("arn:"):
        return secret_id
    return f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{secret_id}{SECRET_SUFFIX}"


def _parameter_arn(name: str) -> str:
    if name.startswith("arn:"):
        return name
    return f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/{name.lstrip('/')}"
