"""A revoked key stops working in every warm function within the 5 seconds README states."""

from __future__ import annotations

import time

import boto3
import pytest

from courier.auth import api_keys
from courier.auth.api_keys import ApiKeyStore
from courier.errors import Unauthorized
from devstack.aws_resources import create_resources
from infra.config import CourierConfig


def test_a_key_revoked_elsewhere_is_refused_within_the_cache_time(aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    table = create_resources(CourierConfig(stage="keys")).table_name
    store = ApiKeyStore(table)
    record, key = store.create("acme", "web")
    assert store.authenticate(key) == "acme"  # now cached in this "warm function"
    # Another function (or the CLI on a workstation) revokes it: this one's cache stays.
    item = next(i for i in boto3.client("dynamodb").scan(TableName=table)["Items"] if i.get("keyId", {}).get("S") == record.key_id)
    boto3.client("dynamodb").update_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]},
                                         UpdateExpression="SET revoked = :t", ExpressionAttributeValues={":t": {"BOOL": True}})
    assert store.authenticate(key) == "acme"  # within the cache time: still trusted
    later = time.monotonic() + 5.5  # the stated bound, not the code's constant
    monkeypatch.setattr(api_keys.time, "monotonic", lambda: later)
    with pytest.raises(Unauthorized):
        store.authenticate(key)
