"""Retry-After in its three spellings, the backoff's bounds, cooldowns."""

from __future__ import annotations

from email.utils import formatdate

import pytest

from courier.ai.retries import Cooldowns, backoff_seconds, is_retryable, retry_after_seconds


@pytest.mark.parametrize(
    "headers, expected",
    [
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
        ({"retry-after": formatdate(1_000_010, usegmt=True)}, 10.0),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after_seconds(headers, now=lambda: 1_000_000) == expected


def test_backoff_doubles_with_jitter_within_bounds() -> None:
    assert [backoff_seconds(n, 0.25, 10, rand=lambda: 0.0) for n in (1, 2, 3)] == [0.125, 0.25, 0.5]
    assert [backoff_seconds(n, 0.25, 10, rand=lambda: 1.0) for n in (1, 2, 3)] == [0.25, 0.5, 1.0]
    assert backoff_seconds(10, 0.25, 10, rand=lambda: 1.0) == 10


def test_which_statuses_are_retried() -> None:
    assert [s for s in (400, 401, 404, 408, 409, 413, 422, 429, 500, 502, 503, 504) if is_retryable(s)] == [408, 409, 429, 500, 502, 503, 504]


def test_cooldowns_expire() -> None:
    now = [100.0]
    cooldowns = Cooldowns(clock=lambda: now[0])
    cooldowns.cool("a", 30)
    cooldowns.cool("a", 5)  # a shorter cooldown never shortens a longer one
    assert cooldowns.remaining("a") == 30 and cooldowns.remaining("b") == 0
    now[0] += 31
    assert cooldowns.remaining("a") == 0
