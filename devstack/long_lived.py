"""The local stack's long-running processes (local AWS, the supervisor) keep their state in
Python objects: every table item, queue message and model moto loads. The garbage
collector's full passes walk all of it, and grow with it: on a stack that has run a few
hundred jobs they stopped local AWS for 50-200 ms at a time, and every request waited.

After each full pass, what survived it is long-lived: it is moved to the permanent
generation (gc.freeze), which later passes skip. Reference counting still frees what is
dropped later; only a cycle among frozen objects outlives its use, and these processes
live for a working session, not for days.
"""

from __future__ import annotations

import gc
from typing import Any


def freeze_survivors() -> None:
    """Idempotent: once per process, before it serves."""
    if _after_full_pass not in gc.callbacks:
        gc.freeze()  # what start-up loaded
        gc.callbacks.append(_after_full_pass)


def _after_full_pass(phase: str, info: dict[str, Any]) -> None:
    if phase == "stop" and info["generation"] == 2:
        gc.freeze()
