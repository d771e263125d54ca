"""`courier tenants show|set` against the jobs table in (local) AWS: what an operator sets is
what the functions read (the same store), a flag left out keeps its value, `default` clears
it, and nonsense is refused with the command's usage code."""

from __future__ import annotations

import json

import pytest

from courier.jobs import catalog
from courier.jobs.limits import TenantLimitsStore
from courier_cli.main import main
from devstack.aws_resources import create_resources
from infra.config import CourierConfig


def test_set_show_and_clear_a_tenants_limits(aws: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    table = create_resources(CourierConfig(stage="cli")).table_name
    monkeypatch.setenv("TABLE_NAME", table)
    assert main(["tenants", "set", "acme", "--worker", "video_processor", "--concurrency", "2", "--rate", "10/min", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["inForce"]["video_processor"] == {"concurrency": 2, "rate": 10, "period": 60}
    assert main(["tenants", "set", "acme", "--max-queued", "50", "--json"]) == 0  # the worker's limits stay
    shown = json.loads(capsys.readouterr().out)
    assert shown["workers"]["video_processor"] == {"concurrency": 2, "rate": 10, "period": 60} and shown["maxQueuedInForce"] == 50
    stored = TenantLimitsStore(table).get("acme")
    assert stored.max_queued == 50 and stored.workers["video_processor"].concurrency == 2

    assert main(["tenants", "show", "acme"]) == 0
    table_text = capsys.readouterr().out
    assert "video_processor" in table_text and "10/60s" in table_text and "at most 50 jobs waiting" in table_text

    assert main(["tenants", "set", "acme", "--worker", "video_processor", "--rate", "default", "--concurrency", "default", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["workers"] == {} and shown["inForce"]["video_processor"]["concurrency"] == catalog.load().worker("video_processor").max_concurrency

    for bad in (["tenants", "set", "acme", "--concurrency", "0"], ["tenants", "set", "acme", "--rate", "fast"],
                ["tenants", "set", "acme", "--worker", "nope", "--concurrency", "1"], ["tenants", "set", "acme"],
                ["tenants", "show", "not a tenant"]):
        assert main(bad) != 0, bad
    capsys.readouterr()
