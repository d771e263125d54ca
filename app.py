#!/usr/bin/env python3
"""CDK entry point (`cdk.json`: "python3 app.py").

The CDK CLI runs `python3` from the caller's PATH, which is rarely the project's venv: then
this file hands itself to `.venv`'s Python, so `npx cdk …` works from any shell.
"""

import os
import sys
from pathlib import Path

try:
    import aws_cdk  # noqa: F401
except ModuleNotFoundError:
    root = Path(__file__).resolve().parent
    venv_python = next((p for p in (root / ".venv/bin/python", root / ".venv/Scripts/python.exe") if p.exists()), None)
    if venv_python is None or Path(sys.prefix).resolve() == (root / ".venv").resolve():
        sys.exit("courier: aws-cdk-lib is not installed; run `make tools` in the repository first")
    os.execv(str(venv_python), [str(venv_python), str(Path(__file__).resolve()), *sys.argv[1:]])

from infra.app_factory import build_app  # noqa: E402

app, _ = build_app()
app.synth()
