"""SQS fair queues in local AWS: a standard queue whose messages carry a MessageGroupId
serves the groups with fewer messages in flight first, so one tenant's backlog does not
delay another tenant's message (AWS, "Amazon SQS fair queues", 2025: "when one tenant has a
disproportionately large backlog, SQS prioritizes the messages of the other tenants").

moto keeps group ids on standard queues but serves them in arrival order; `install()`
makes its visible-message list order by the group's messages in flight, then arrival (a
stable sort), which is what a poller of the local event source mapping receives first.
FIFO queues and messages without a group are as moto has them.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from moto.sqs.models import Message, Queue

_plain = Queue.messages


def _fair_messages(queue: Queue) -> list[Message]:
    visible: list[Message] = _plain.fget(queue)  # type: ignore[attr-defined]
    if queue.fifo_queue or not any(m.group_id for m in visible):
        return visible
    in_flight: Counter[Any] = Counter(m.group_id for m in queue._messages if m.group_id and m.receipt_handle and not m.visible)
    return sorted(visible, key=lambda m: in_flight[m.group_id] if m.group_id else 0)


def install() -> None:
    """Idempotent: local AWS calls it once, before it serves a request."""
    Queue.messages = property(_fair_messages)  # type: ignore[method-assign, assignment]
