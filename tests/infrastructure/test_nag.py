"""cdk-nag runs at synth: a finding stops it, and Courier's own stack has none unacknowledged."""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_cdk import aws_s3 as s3

from infra.app_factory import build_app
from tests.infrastructure.conftest import NO_BUNDLING, assert_every_finding_acknowledged


def test_courier_synthesizes_with_no_unacknowledged_finding_of_either_pack(default_synth, tmp_path: Path) -> None:
    stack, _ = default_synth  # app.synth() raised if any finding were left
    report = Path(stack.node.root.outdir) / "validation-report.json"
    assert_every_finding_acknowledged(report)


def test_a_new_finding_stops_synth(tmp_path: Path) -> None:
    app, stack = build_app(NO_BUNDLING, outdir=str(tmp_path))
    s3.Bucket(stack, "CarelessBucket")  # no SSL enforcement, no access logs
    with pytest.raises(Exception, match=r"AwsSolutions-S(1|10)"):
        app.synth()
