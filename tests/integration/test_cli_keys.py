"""`courier keys create|list|revoke` against the jobs table in (local) AWS."""

from __future__ import annotations

import json

import pytest

from courier.auth.api_keys import ApiKeyStore, _cache
from courier.errors import Unauthorized
from courier_cli.main import main
from devstack.aws_resources import create_resources
from infra.config import CourierConfig


def test_create_list_revoke(aws: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    table = create_resources(CourierConfig(stage="cli")).table_name
    monkeypatch.setenv("TABLE_NAME", table)
    assert main(["keys", "create", "--tenant", "acme", "--name", "ci", "--json"]) == 0
    created = json.loads(capsys.readouterr().out)
    assert created["apiKey"].startswith("ck_") and created["tenantId"] == "acme"
    assert set(created) == {"keyId", "tenantId", "name", "createdAt", "revoked", "operator", "apiKey"}  # camelCase, as the API names things
    store = ApiKeyStore(table)
    assert store.authenticate(created["apiKey"]) == "acme"
    assert main(["keys", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [k["keyId"] for k in listed] == [created["keyId"]]
    assert "apiKey" not in listed[0] and created["apiKey"] not in json.dumps(listed)  # never shown again
    items = __import__("boto3").client("dynamodb").scan(TableName=table)["Items"]
    assert created["apiKey"] not in json.dumps(items)  # stored hashed only
    assert main(["keys", "revoke", created["keyId"]]) == 0
    assert "revoked" in capsys.readouterr().out
    _cache.clear()
    with pytest.raises(Unauthorized):
        store.authenticate(created["apiKey"])
    assert main(["keys", "revoke", "key_nope"]) == 1
    assert main(["keys", "create", "--tenant", "bad tenant!"]) == 1


def test_the_table_comes_from_the_stacks_outputs(aws: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """As README says: no table name by hand; `courier` reads the stack's TableName output
    (here a stack registered in local AWS the way the local stack registers its own)."""
    import boto3

    from devstack.environment import DevSettings, register_stack
    from infra.config import OUTPUT_TABLE_NAME

    settings = DevSettings(config=CourierConfig(stage="dev"))
    resources = create_resources(settings.config)
    monkeypatch.delenv("TABLE_NAME", raising=False)
    monkeypatch.delenv("COURIER_STACK", raising=False)
    assert main(["keys", "list"]) == 2
    assert "no stack Courier-dev in us-east-1" in capsys.readouterr().err
    register_stack(settings, resources, boto3.session.Session())
    outputs = boto3.client("cloudformation").describe_stacks(StackName="Courier-dev")["Stacks"][0]["Outputs"]
    assert {"OutputKey": OUTPUT_TABLE_NAME, "OutputValue": resources.table_name} in outputs
    assert main(["keys", "create", "--tenant", "acme", "--name", "web-app", "--json"]) == 0
    created = json.loads(capsys.readouterr().out)
    assert ApiKeyStore(resources.table_name).authenticate(created["apiKey"]) == "acme"
    assert main(["keys", "list", "--stack", "Courier-dev", "--json"]) == 0
    assert [k["keyId"] for k in json.loads(capsys.readouterr().out)] == [created["keyId"]]
    assert main(["keys", "list", "--stack", "Courier-prod"]) == 2
    assert "no stack Courier-prod" in capsys.readouterr().err
