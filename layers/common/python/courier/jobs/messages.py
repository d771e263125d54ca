"""The message both queues carry: a pointer to a job, never the job's data.

The job record (input, status, attempts) lives in DynamoDB; a message only says which
job to run, so a retried or duplicated message can never carry stale input.
"""

from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from courier.errors import InvalidInput


class JobMessage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    job_id: str = Field(alias="jobId", min_length=1, max_length=128)
    type: str = Field(min_length=1, max_length=64)
    #: A waiting job's wake-up (durable steps): the link of its wake-up chain this message is.
    wake: int | None = Field(None, ge=1)
    #: The job's tenant: a worker takes the tenant's slot before it claims the job
    #: (courier.jobs.slots), where the tenant's concurrency is below the worker's.
    tenant: str | None = Field(None, max_length=64)
    #: How often the job was sent again because its tenant had no free slot (each wait longer).
    deferred: int | None = Field(None, ge=1)

    @classmethod
    def parse(cls, body: bytes | str) -> JobMessage:
        try:
            return cls.model_validate(json.loads(body))
        except (ValueError, ValidationError) as error:
            raise InvalidInput(f"not a Courier job message: {_first_line(error)}", code="invalid_message") from None

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, exclude_none=True)


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0][:200]
