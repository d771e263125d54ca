"""Event source mappings in local AWS are records, not pollers: `courier flow pause` reads and
changes them there as on AWS, and the local runtime's pollers (devstack/runtime/sqs_poller.py)
obey their state. moto would also run an enabled mapping itself on every send (receive the
message, invoke the function through Docker), spending the message's receives and racing the
local poller; `install()` keeps its queues from knowing their mappings.
"""

from __future__ import annotations

from moto.sqs.models import Queue


def install() -> None:
    """Idempotent: local AWS calls it once, before it serves a request."""
    Queue.lambda_event_source_mappings = property(  # type: ignore[assignment]
        lambda queue: {}, lambda queue, value: None,
    )
