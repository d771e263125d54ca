"""What every job type's input is: a JobInput, validated when the job is enqueued and again
when it runs. Each domain package declares its own models beside its job code
(courier.video.inputs, courier.ai.inputs, courier.outbound.inputs, courier.builtin.inputs)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

#: What a view shows in place of a secret.
REDACTED = "[redacted]"


class JobInput(BaseModel):
    # Built on first use: a worker validates its own types only, the router API one.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)

    def check(self) -> None:
        """Checks beyond the model's fields, raising InvalidInput with their own codes."""

    def run_seconds(self) -> float | None:
        """How long a run of this input takes at least, when the input says (None: unknown):
        one that cannot end within its worker's timeout is refused at enqueue."""
        return None

    def planned_children(self) -> list[tuple[str, dict[str, Any]]]:
        """The child jobs (type, input) this input asks for by name: checked at enqueue like
        the request itself, so a bad child is a 4xx now, not a failed child later."""
        return []

    def children_bound(self) -> int:
        """At most how many more children a run may start that are not planned (one per
        page, per part of a video): counted against the request's bound at enqueue."""
        return 0

    @classmethod
    def redact(cls, data: dict[str, Any]) -> dict[str, Any]:
        """The stored input as views and logs show it: every field declared with
        `json_schema_extra={"secret": True}` hidden. The run reads the stored input itself."""
        hidden = {f.alias or name for name, f in cls.model_fields.items()
                  if isinstance(f.json_schema_extra, dict) and f.json_schema_extra.get("secret")}
        return {k: (REDACTED if k in hidden and v is not None else v) for k, v in data.items()}
