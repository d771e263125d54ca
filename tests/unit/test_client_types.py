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


def test_the_live_document_lists_every_catalogued_job_type_and_refuses_a_name_taken_twice() -> None:
    """The deployment's /openapi.json lists every type it runs (a team's own too), each input
    a component the client's union is made from; two models of one name are an error, not one
    silently shadowing the other."""
    import importlib

    import pytest
    from pydantic import Field

    from courier.jobs import catalog
    from courier.jobs.inputs import JobInput
    from courier.jobs.schemas import JOB_TYPES_EXTENSION, add_job_types

    test_the_committed_openapi_documents_are_the_apis_own()  # the handler imported, as the script does
    document = importlib.import_module("functions.jobs_api.handler").app.openapi()
    loaded = catalog.load()
    listed = document[JOB_TYPES_EXTENSION]
    assert set(listed) == {t.name for t in loaded.job_types}
    assert document["components"]["schemas"]["TextHashInput"]["properties"]["uploadKey"]  # by alias, as the API reads it
    assert all(ref["input"].removeprefix("#/components/schemas/") in document["components"]["schemas"] for ref in listed.values())
    # Each result too, where the type declares one (every shipped type does), by its JSON names.
    assert {t.name for t in loaded.shipped_job_types} <= {name for name, ref in listed.items() if "result" in ref}
    assert listed["video.analyze"]["result"] == "#/components/schemas/VideoAnalyzeResult"
    assert "hasAudio" in document["components"]["schemas"]["VideoInfo"]["properties"]

    class TextHashInput(JobInput):
        other: str = Field(default="")

    clash = catalog.Catalog.of(loaded.workers, [*loaded.job_types, catalog.JobType("x.clash", "ai_router", TextHashInput, "m:f")])
    with pytest.raises(ValueError, match="two schemas are named 'TextHashInput'"):
        add_job_types({}, clash)
