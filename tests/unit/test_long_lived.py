"""The local stack's long-running processes move what survives a full collection to the
permanent generation, so the next full collection does not walk it again."""

from __future__ import annotations

import gc

from devstack import long_lived


def test_what_survives_a_full_collection_is_frozen() -> None:
    before = list(gc.callbacks)
    try:
        long_lived.freeze_survivors()
        long_lived.freeze_survivors()
        assert gc.callbacks.count(long_lived._after_full_pass) == 1
        gc.unfreeze()
        kept = [[n] for n in range(1000)]  # long-lived, not garbage
        gc.collect(1)
        assert gc.get_freeze_count() == 0  # a young collection freezes nothing
        gc.collect()
        assert gc.get_freeze_count() > len(kept)
    finally:
        gc.callbacks[:] = before
        gc.unfreeze()
