"""JSON as Courier reads and writes it: standard (no NaN or Infinity) and of bounded depth.

Python's `json` accepts and writes `NaN` and `Infinity`, which are not JSON: a callback
carrying one makes the web app's parser throw, and the outcome is lost. And a value nested
past pydantic's serialisation depth (about 255) can be stored but never shown again, so
one hostile input would break its tenant's whole job list. Every value that enters Courier
from outside (a job's input, a schedule's, what an upstream answers) is checked here, and
every structured field Courier writes goes through `dumps`.
"""

from __future__ import annotations

import json
import math
from typing import Any

from courier.errors import InvalidInput

#: How deep a job's input may nest (objects and arrays): far deeper than any real request,
#: far below what the views can serialise.
MAX_INPUT_DEPTH = 64
#: Results nest a little deeper than inputs: a parent's result holds its children's.
MAX_RESULT_DEPTH = 128


class TooDeep(InvalidInput):
    code = "input_too_deep"


def depth_exceeds(value: Any, limit: int) -> bool:
    """Whether `value` nests more than `limit` levels (walked without recursion, so a
    value 100,000 deep is measured as easily as a flat one)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, (list, tuple)):
            children = item
        else:
            continue
        if level > limit:
            return True
        stack.extend((child, level + 1) for child in children)
    return False


def _non_finite(value: Any) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def require_standard(value: Any, what: str = "input", limit: int = MAX_INPUT_DEPTH) -> None:
    """Refuse a value no standard JSON reader could take back, or nested past `limit`."""
    if depth_exceeds(value, limit):
        raise TooDeep(f"the {what} is nested more than {limit} levels deep", code=f"{what}_too_deep".replace(" ", "_"))
    if _any(value, _non_finite):
        raise InvalidInput(f"the {what} holds NaN or Infinity, which JSON cannot carry", code="invalid_number")


def finite(value: Any, limit: int = MAX_RESULT_DEPTH, what: str = "result") -> Any:
    """`value` with every NaN and infinity made null, as JavaScript's JSON.stringify does
    (a handler's arithmetic may produce one); TooDeep past `limit`."""
    if depth_exceeds(value, limit):
        raise TooDeep(f"the {what} is nested more than {limit} levels deep", code=f"{what}_too_deep".replace(" ", "_"))
    return _replace_non_finite(value)


def _replace_non_finite(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _replace_non_finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_replace_non_finite(v) for v in value]
    return None if _non_finite(value) else value


def _any(value: Any, test: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        elif test(item):
            return True
    return False


def dumps(value: Any, **options: Any) -> str:
    """Standard JSON only: a NaN that reaches here is a bug, and fails loudly."""
    return json.dumps(value, allow_nan=False, **options)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def loads(text: str | bytes, limit: int = MAX_RESULT_DEPTH) -> Any:
    """Standard JSON of bounded depth, or ValueError (never RecursionError)."""
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    if depth_exceeds(value, limit):
        raise ValueError(f"nested more than {limit} levels deep")
    return value
