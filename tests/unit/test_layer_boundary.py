"""The Lambda layer holds only what runs in Lambda: no module in it imports the
workstation CLI, the local stack or the CDK app (the arrows run the other way)."""

from __future__ import annotations

import ast

from infra.assets import COMMON_LAYER_DIR

WORKSTATION_ONLY = ("courier_cli", "devstack", "infra", "aws_cdk", "tests")


def test_no_layer_module_imports_workstation_code() -> None:
    offenders = []
    for path in sorted((COMMON_LAYER_DIR / "python").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            offenders += [f"{path.relative_to(COMMON_LAYER_DIR)}: {n}" for n in names if n.split(".")[0] in WORKSTATION_ONLY]
        assert "sys.path" not in path.read_text(), f"{path}: sys.path tricks"
    assert not offenders, offenders
    assert not (COMMON_LAYER_DIR / "python" / "courier" / "cli.py").exists()
