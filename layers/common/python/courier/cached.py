"""What a warm function may trust for a few seconds: a tenant's limits, a worker's pause.

Read on every dispatch they would cost a table read each; cached per container for
`seconds`, a change an operator makes takes effect everywhere within that time (and at
once in the container that made it, which forgets its entry).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")
_entries: dict[tuple[str, str], tuple[float, Any]] = {}


@dataclass
class Cached(Generic[T]):
    """`read(key)`, remembered for `seconds` under `scope` (what it reads, and from where)."""

    read: Callable[[str], T]
    scope: str
    seconds: float
    clock: Callable[[], float] = field(default=time.monotonic)

    def __call__(self, key: str) -> T:
        entry = _entries.get((self.scope, key))
        if entry and entry[0] > self.clock():
            return entry[1]  # type: ignore[no-any-return]
        value = self.read(key)
        _entries[(self.scope, key)] = (self.clock() + self.seconds, value)
        return value


def scope(kind: str, table_name: str) -> str:
    """A cache's scope: what it reads, and from which table (tests reuse names over new tables)."""
    return f"{kind}:{table_name}"


def forget(scope: str, key: str) -> None:
    _entries.pop((scope, key), None)


def forget_all() -> None:
    """Everything (a new table behind the same names: tests)."""
    _entries.clear()
