"""A cold start's garbage collector: off while a function's modules load, then everything
they made moved to the permanent generation (gc.freeze), so no later collection walks it.

Loading FastAPI, pydantic and Powertools allocates a few hundred thousand objects, none
of them garbage; the collector still runs full collections over them while they load,
about 20 ms of a 250 ms cold start each. Each handler calls `begin()` first and `end()`
once its module is initialised; a test checks the collector is back on afterwards.
"""

from __future__ import annotations

import gc


def begin() -> None:
    gc.disable()


def end() -> None:
    gc.freeze()
    gc.enable()
