"""moto's DynamoDB transactions without a copy of every table they touch.

moto backs up each table a transaction names with `copy.deepcopy` before it writes, so a
transaction costs as much as the whole table: on a local stack that has run a few thousand
jobs, creating one job with an idempotency key (two puts in a transaction) took 20-35 ms
and grew with every job, under local AWS's one lock, so every other request waited too.

This one keeps DynamoDB's semantics (every condition read against the state before the
transaction, all of it applied or none; a key named twice, or an invalid expression, is an
error, not a cancellation) and moto's own item operations and error shapes: it checks every
condition first, without writing, then applies the writes, keeping a copy of only the items
it changes, to put back should a write fail. Local AWS serves one request at a time, so
nothing changes between the check and the writes.
"""

from __future__ import annotations

import copy
from typing import Any

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import Item

OPERATIONS = ("ConditionCheck", "Put", "Delete", "Update")
Error = tuple[str, str, Any] | tuple[None, None, None]
#: (operation, its request, table name, key, the item before it, or None)
Planned = tuple[str, dict[str, Any], str, dict[str, Any], Item | None]


#: moto's own, which the tests hold this one to.
MOTO_TRANSACT_WRITE_ITEMS = DynamoDBBackend.transact_write_items


def install() -> None:
    """Idempotent: local AWS calls it once, before it serves a request."""
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    planned, errors = _check(self, transact_items)
    if any(code is not None for code, _, _ in errors):
        raise TransactionCanceledException(errors)
    done: list[Planned] = []
    for index, step in enumerate(planned):
        try:
            done.append(step)
            _apply(self, step)
        except MockValidationException:
            _undo(self, done)
            raise
        except Exception as error:  # as moto reports an operation that failed
            _undo(self, done)
            errors[index] = (type(error).__name__, str(error), None)
            raise TransactionCanceledException(errors) from None


def _check(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> tuple[list[Planned], list[Error]]:
    """Each operation's condition against the items as they are; nothing written."""
    named: set[tuple[str, str]] = set()
    planned: list[Planned] = []
    errors: list[Error] = []
    for entry in transact_items:
        if len(entry) > 1:
            raise TransactWriteSingleOpException
        old: dict[str, Any] | None = None
        try:
            kind, op = next(iter(entry.items()))
            if kind not in OPERATIONS:
                raise ValueError("Unsupported transaction operation")
            table_name = op["TableName"]
            key = _key(backend, kind, op)
            marker = (str(table_name), str(dict(sorted(key.items()))))
            if marker in named:
                raise MultipleTransactionsException()
            named.add(marker)
            current = backend.get_item(table_name, key)
            condition = op.get("ConditionExpression")
            if condition is not None:
                test = get_filter_expression(condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues"))
                if not test.expr(current):
                    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                        old = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=old)
            planned.append((kind, op, table_name, key, copy.deepcopy(current)))
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            raise
        except ConditionalCheckFailed as error:
            errors.append(("ConditionalCheckFailed", str(error.message), old))
        except Exception as error:
            errors.append((type(error).__name__, str(error), old))
    return planned, errors


def _key(backend: DynamoDBBackend, kind: str, op: dict[str, Any]) -> dict[str, Any]:
    if kind != "Put":
        return dict(op["Key"])
    table, attrs = backend.get_table(op["TableName"]), op["Item"]
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return key


def _apply(backend: DynamoDBBackend, step: Planned) -> None:
    kind, op, table_name, key, _ = step
    names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
    if kind == "Put":
        backend.put_item(table_name, op["Item"], expression_attribute_names=names, expression_attribute_values=values)
    elif kind == "Delete":
        backend.delete_item(table_name, key, expression_attribute_names=names, expression_attribute_values=values)
    elif kind == "Update":
        backend.update_item(table_name, key, update_expression=op["UpdateExpression"],  # None, as moto's own passes
                            expression_attribute_names=names, expression_attribute_values=values)  # type: ignore[arg-type]


def _undo(backend: DynamoDBBackend, done: list[Planned]) -> None:
    """The items written so far back as they were (absent ones removed), last first."""
    for _, _, table_name, key, before in reversed(done):
        if before is None:
            backend.delete_item(table_name, key)
        else:
            backend.put_item(table_name, before.to_json()["Attributes"])
