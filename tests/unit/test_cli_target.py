"""Which deployment `courier` talks to, and what it can do with what it was given."""

from __future__ import annotations

import argparse

import pytest

from courier_cli.output import USAGE, CliError
from courier_cli.target import Target, resolve


def args(**given: object) -> argparse.Namespace:
    return argparse.Namespace(**{"url": None, "key": None, "stack": None, "dev_dir": None, **given})


def test_a_url_needs_no_aws_and_says_what_it_cannot_do() -> None:
    target = resolve(args(url="https://api.example.com/", key="ck_x"))
    assert (target.api, target.key, target.where) == ("https://api.example.com", "ck_x", "https://api.example.com/")
    with pytest.raises(CliError) as caught:
        target.table_name  # noqa: B018 - the property is the question
    assert caught.value.exit_code == USAGE and caught.value.code == "needs_stack" and "--stack" in caught.value.message
    with pytest.raises(CliError) as caught:
        Target(where="https://api.example.com", api_url="https://api.example.com").key  # noqa: B018
    assert caught.value.code == "missing_key" and "COURIER_API_KEY" in caught.value.message


def test_queues_come_from_the_outputs_names_including_a_worker_this_checkout_lacks() -> None:
    outputs = {"VideoProcessorQueueUrl": "q1", "VideoProcessorDeadLetterQueueUrl": "d1", "ReportsQueueUrl": "q2",
               "ReportsDeadLetterQueueUrl": "d2", "ReportsFunctionUrl": "https://x", "TableName": "t"}
    assert Target(where="stack s", outputs=outputs).queues() == {"VideoProcessor": ("q1", "d1"), "Reports": ("q2", "d2")}
    with pytest.raises(CliError):
        Target(where="stack s", outputs={"TableName": "t"}).queues()
