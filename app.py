#!/usr/bin/env python3
"""CDK entry point (`cdk.json`: "python3 app.py")."""

from infra.app_factory import build_app

app, _ = build_app()
app.synth()
