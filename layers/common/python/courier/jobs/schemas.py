"""Each job type's input (and its declared result) as JSON Schema, for the jobs API's OpenAPI document: the TypeScript
client is generated from it, so `enqueue` takes a union of the catalogue's types, each with
its own input, and a misspelt type or field fails to compile. The API itself still takes
any object and validates it by the type's model (its errors name the field)."""

from __future__ import annotations

from typing import Any

from courier.jobs.catalog import Catalog

#: The OpenAPI extension that lists the job types: {type: {"input": "#/components/schemas/X", "result": ...}}.
JOB_TYPES_EXTENSION = "x-courier-job-types"
_REF = "#/components/schemas/{model}"


def add_job_types(document: dict[str, Any], catalog: Catalog) -> dict[str, Any]:
    """`document` with every job type's input model among its components and the types
    listed under JOB_TYPES_EXTENSION; a name taken by two different schemas is an error."""
    components: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    listed: dict[str, dict[str, str]] = {}

    def add(name: str, schema: dict[str, Any]) -> None:
        if components.get(name, schema) != schema:
            raise ValueError(f"two schemas are named {name!r} in the jobs API's document: rename one of the models")
        components[name] = schema

    for job_type in catalog.job_types:
        schema = job_type.input.model_json_schema(by_alias=True, ref_template=_REF)
        for name, definition in schema.pop("$defs", {}).items():
            add(name, definition)
        add(job_type.input.__name__, schema)
        listed[job_type.name] = {"input": _REF.format(model=job_type.input.__name__)}
        if job_type.result is not None:
            schema = job_type.result.model_json_schema(by_alias=True, ref_template=_REF, mode="serialization")
            for name, definition in schema.pop("$defs", {}).items():
                add(name, definition)
            add(job_type.result.__name__, schema)
            listed[job_type.name]["result"] = _REF.format(model=job_type.result.__name__)
    document[JOB_TYPES_EXTENSION] = listed
    return document
