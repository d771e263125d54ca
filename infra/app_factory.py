"""Builds the CDK app exactly as `cdk synth` does, so tests check what users deploy."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

from infra.config import CourierConfig
from infra.stacks.courier_stack import CourierStack

CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"


def build_app(context: Mapping[str, Any] | None = None, outdir: str | None = None) -> tuple[cdk.App, CourierStack]:
    """The app with cdk.json's context (feature flags included) under `context`.

    The CDK CLI passes cdk.json's context itself; a test that builds the app directly
    must get the same feature flags, or it would check a different template.
    """
    merged = {**json.loads(CDK_JSON.read_text()).get("context", {}), **(context or {})}
    # The CLI sets CDK_DEFAULT_REGION from the profile it deploys with; the stack stays
    # environment-agnostic, but knows whether its region has Function URLs.
    if not merged.get("region") and os.environ.get("CDK_DEFAULT_REGION"):
        merged["region"] = os.environ["CDK_DEFAULT_REGION"]
    app = cdk.App(context=merged, outdir=outdir)
    config = CourierConfig.from_context(app.node.try_get_context)
    stack = CourierStack(
        app,
        f"Courier-{config.stage}",
        config=config,
        description=f"Courier ({config.stage}): serverless background jobs and AI routing",
    )
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
    return app, stack
