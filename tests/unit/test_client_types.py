"""The TypeScript client's OpenAPI documents are the APIs' own (its types are generated from
them, and `make client` checks those types against them in turn)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_openapi_documents_are_the_apis_own() -> None:
    spec = importlib.util.spec_from_file_location("openapi_script", ROOT / "scripts" / "openapi.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    for name, text in script.documents().items():
        committed = ROOT / "clients" / "typescript" / "openapi" / f"{name}.json"
        assert committed.read_text() == text, f"{committed.relative_to(ROOT)} is stale: run `make client-types`"
