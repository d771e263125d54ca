"""Local AWS's DynamoDB transactions (devstack/dynamodb_transactions.py) answer as moto's own
do, for every shape the product uses and the failures it relies on: the same result or error
(code and each item's cancellation reason, ALL_OLD items included) and the same table after,
so a cancelled or invalid transaction writes nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.dynamodb.models import DynamoDBBackend

from devstack import dynamodb_transactions

TABLE = "transactions"
NEW = {"ConditionExpression": "attribute_not_exists(pk)"}


def put(pk: str, **extra: Any) -> dict[str, Any]:
    return {"Put": {"TableName": TABLE, "Item": {"pk": {"S": pk}, "sk": {"S": "a"}, "n": {"N": "1"}}, **extra}}


def update(pk: str, expression: str = "SET n = n + :one", **extra: Any) -> dict[str, Any]:
    values = extra.pop("ExpressionAttributeValues", {":one": {"N": "1"}})
    return {"Update": {"TableName": TABLE, "Key": {"pk": {"S": pk}, "sk": {"S": "a"}}, "UpdateExpression": expression,
                       "ExpressionAttributeValues": values, **extra}}


#: (what is there first, the transaction)
CASES: dict[str, tuple[list[str], list[dict[str, Any]]]] = {
    "two new items": ([], [put("a", **NEW), put("b", **NEW)]),
    "both exist, one asks for the old item": (["a", "b"], [put("a", **NEW, ReturnValuesOnConditionCheckFailure="ALL_OLD"), put("b", **NEW)]),
    "a put then a failed condition": (["b"], [put("a", **NEW), update("b", ConditionExpression="n > :ten",
                                                                           ExpressionAttributeValues={":one": {"N": "1"}, ":ten": {"N": "10"}})]),
    "a put then an invalid update": (["b"], [put("a", **NEW), update("b", "SET n = n + :missing")]),
    "one key twice": ([], [put("a"), update("a")]),
    "check, delete and update": (["a", "b", "c"], [
        {"ConditionCheck": {"TableName": TABLE, "Key": {"pk": {"S": "a"}, "sk": {"S": "a"}}, "ConditionExpression": "attribute_exists(pk)"}},
        {"Delete": {"TableName": TABLE, "Key": {"pk": {"S": "b"}, "sk": {"S": "a"}}}},
        update("c"),
    ]),
    "an unknown table": ([], [put("a"), {"Put": {"TableName": "nowhere", "Item": {"pk": {"S": "x"}}}}]),
}


@pytest.fixture
def dynamodb(aws: str) -> Iterator[Any]:
    client = boto3.client("dynamodb")
    client.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
    yield client


def outcome(client: Any, seeded: list[str], items: list[dict[str, Any]], implementation: Callable[..., None]) -> tuple[Any, Any]:
    """(the answer, the table after) with `implementation` serving the transaction."""
    for pk in seeded:
        client.put_item(TableName=TABLE, Item={"pk": {"S": pk}, "sk": {"S": "a"}, "n": {"N": "5"}})
    DynamoDBBackend.transact_write_items = implementation  # type: ignore[method-assign]
    try:
        client.transact_write_items(TransactItems=items)
        answer: Any = "written"
    except ClientError as error:
        answer = (error.response["Error"]["Code"], error.response.get("CancellationReasons"))
    finally:
        dynamodb_transactions.install()
    after = sorted(str(sorted(item.items())) for item in client.scan(TableName=TABLE)["Items"])
    for item in client.scan(TableName=TABLE)["Items"]:
        client.delete_item(TableName=TABLE, Key={"pk": item["pk"], "sk": item["sk"]})
    return answer, after


@pytest.mark.parametrize("case", list(CASES))
def test_a_transaction_answers_and_writes_as_motos_own(dynamodb: Any, case: str) -> None:
    seeded, items = CASES[case]
    ours = outcome(dynamodb, seeded, items, dynamodb_transactions.transact_write_items)
    motos = outcome(dynamodb, seeded, items, dynamodb_transactions.MOTO_TRANSACT_WRITE_ITEMS)
    assert ours == motos
    if case != "two new items" and case != "check, delete and update":
        assert ours[0] != "written" and ours[1] == sorted(str(sorted(
            {"pk": {"S": pk}, "sk": {"S": "a"}, "n": {"N": "5"}}.items())) for pk in seeded)  # nothing written
