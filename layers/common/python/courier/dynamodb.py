"""DynamoDB's wire format through boto3's own serializer and condition builder, for the
low-level client (which, unlike boto3's Table resource, applies neither).

boto3 is imported on the first use, not with this module: importing it costs a Lambda
cold start about 80 ms, which an API request that never reads the table should not pay.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from boto3.dynamodb.conditions import Attr, ConditionBase, Key
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer


@cache
def _codec() -> tuple[TypeSerializer, TypeDeserializer]:
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    return TypeSerializer(), TypeDeserializer()


def attr(name: str) -> Attr:
    """boto3's `Attr`, for conditions and filters."""
    from boto3.dynamodb.conditions import Attr

    return Attr(name)


def key(name: str) -> Key:
    """boto3's `Key`, for key conditions."""
    from boto3.dynamodb.conditions import Key

    return Key(name)


def serialize(value: Any) -> dict[str, Any]:
    wire: dict[str, Any] = _codec()[0].serialize(value)
    return wire


def to_item(values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: serialize(value) for name, value in values.items()}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """Numbers come back as int where they are whole (Courier stores no fractions)."""
    deserializer = _codec()[1]
    values = {name: deserializer.deserialize(value) for name, value in item.items()}
    return {k: int(v) if isinstance(v, Decimal) and v == v.to_integral_value() else v for k, v in values.items()}


def expressions(*, condition: ConditionBase | None = None, key: ConditionBase | None = None,
                filter: ConditionBase | None = None) -> dict[str, Any]:
    """The request fields for a condition, key condition and filter expression, built by
    one builder so their placeholders never collide (and no empty map is sent)."""
    from boto3.dynamodb.conditions import ConditionExpressionBuilder

    builder = ConditionExpressionBuilder()
    fields: dict[str, Any] = {}
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    for field, expression, is_key in (("ConditionExpression", condition, False), ("KeyConditionExpression", key, True),
                                      ("FilterExpression", filter, False)):
        if expression is None:
            continue
        built = builder.build_expression(expression, is_key_condition=is_key)
        fields[field] = built.condition_expression
        names.update(built.attribute_name_placeholders)
        values.update({k: serialize(v) for k, v in built.attribute_value_placeholders.items()})
    if names:
        fields["ExpressionAttributeNames"] = names
    if values:
        fields["ExpressionAttributeValues"] = values
    return fields


class Table:
    """A store over one DynamoDB table, with boto3 loaded on its first request (a cold start
    that never touches the table skips it); tests hand in their own client."""

    def __init__(self, table_name: str, *, client: Any = None) -> None:
        self.table_name = table_name
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            from courier.aws import client

            self._client = client("dynamodb")
        return self._client
