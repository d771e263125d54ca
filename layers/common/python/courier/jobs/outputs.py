"""What a job type declares it returns: a JobOutput, listed in the jobs API's OpenAPI document
so the TypeScript client types a job's `result` by its `type`, and checked when a run ends
(a handler that breaks its declared shape fails its job with `invalid_result` at its first
run, in a test, instead of breaking every client that reads the field later)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

from courier.errors import InvalidInput, problems


class JobOutput(BaseModel):
    """Fields in snake_case, their JSON names camelCase (as the results always were) and read
    by those names only (a handler's `words_seen` is not the `wordsSeen` clients read); more
    fields than declared are allowed (a result may grow) but not typed for clients."""

    # Built on first use, as the API's views are: the catalogue imports every type's model.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=False, defer_build=True)


def check_result(model: type[BaseModel] | None, job_type: str, result: dict[str, Any]) -> None:
    """InvalidInput (`invalid_result`, not retried: the same code returns the same shape)
    when `result` lacks a declared field or has one of another type."""
    if model is None:
        return
    try:
        model.model_validate(result)
    except ValidationError as error:
        raise InvalidInput(f"{job_type} returned a result that is not its declared {model.__name__}: {problems(error.errors(), root='result')}",
                           code="invalid_result") from None
