"""DynamoDB's wire format through boto3's own serializer and condition builder, for the
low-level client (which, unlike boto3's Table resource, applies neither).

boto3 is imported on the first use, not with this module: importing it costs a Lambda
cold start about 80 ms, which an API request that never reads the table should not pay.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Mapping
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

    def query_all(self, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every item a query finds, page after page."""
        return self._paged(self.client.query, request)

    def scan_all(self, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every item a scan finds, page after page."""
        return self._paged(self.client.scan, request)

    @staticmethod
    def _paged(read: Any, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
        request = dict(request)
        while True:
            response = read(**request)
            yield from response.get("Items", [])
            if "LastEvaluatedKey" not in response:
                return
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


class Update:
    """An update expression built from named changes, never from string surgery."""

    def __init__(self) -> None:
        self._sets: list[str] = []
        self._removes: list[str] = []
        self._deletes: list[str] = []
        self._adds: list[str] = []
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def _name(self, attribute: str) -> str:
        placeholder = f"#u{len(self.names)}"
        self.names[placeholder] = attribute
        return placeholder

    def _value(self, value: Any) -> str:
        placeholder = f":u{len(self.values)}"
        self.values[placeholder] = serialize(value)
        return placeholder

    def set(self, attribute: str, value: Any) -> Update:
        self._sets.append(f"{self._name(attribute)} = {self._value(value)}")
        return self

    def set_once(self, attribute: str, value: Any) -> Update:
        name = self._name(attribute)
        self._sets.append(f"{name} = if_not_exists({name}, {self._value(value)})")
        return self

    def increment(self, attribute: str, by: int = 1) -> Update:
        name = self._name(attribute)
        self._sets.append(f"{name} = {name} + {self._value(by)}")
        return self

    def delete_from_set(self, attribute: str, members: builtins.set[str]) -> Update:
        self._deletes.append(f"{self._name(attribute)} {self._value(members)}")
        return self

    def add(self, attribute: str, amount: int) -> Update:
        """ADD: an atomic counter, created at 0 when absent (no read, no lost count)."""
        self._adds.append(f"{self._name(attribute)} {self._value(amount)}")
        return self

    def remove(self, attribute: str) -> Update:
        self._removes.append(self._name(attribute))
        return self

    @property
    def expression(self) -> str:
        parts = ["SET " + ", ".join(self._sets)] if self._sets else []
        if self._removes:
            parts.append("REMOVE " + ", ".join(self._removes))
        if self._deletes:
            parts.append("DELETE " + ", ".join(self._deletes))
        if self._adds:
            parts.append("ADD " + ", ".join(self._adds))
        return " ".join(parts)
