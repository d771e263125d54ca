"""The local QStash server's parsers: durations, retry-delay expressions, cron, headers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from courier.cron import Cron
from devstack.qstash.durations import parse_duration
from devstack.qstash.model import BadRequest, Settings, callback_settings
from devstack.qstash.retry_delay import RetryDelay


@pytest.mark.parametrize("text, seconds", [("10s", 10), ("5m", 300), ("1h30m", 5400), ("2d", 172800), ("45", 45), ("500ms", 0.5)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "10x", "1h 30m", "-5s"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize(
    "expression, retried, ms",
    [
        ("1000", 3, 1000),
        ("1000 * (1 + retried)", 2, 3000),
        ("pow(2, retried)", 10, 1024),
        ("max(10, pow(2, retried))", 1, 10),
        ("min(5000, exp(retried) * 100)", 1, pytest.approx(271.83, abs=0.01)),
        ("floor(sqrt(retried * 100))", 2, 14),
        ("-5", 0, 0),
    ],
)
def test_retry_delay_expressions(expression: str, retried: int, ms: float) -> None:
    assert RetryDelay(expression).milliseconds(retried) == ms


@pytest.mark.parametrize("expression", ["__import__('os')", "retried.__class__", "open('x')", "lambda: 1", "pow(10, 400)", "exp(10000)", "x + 1", "1 +"])
def test_retry_delay_refuses_anything_else(expression: str) -> None:
    with pytest.raises(ValueError):
        RetryDelay(expression)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    "expression, after, expected",
    [
        ("* * * * *", "2026-11-22T10:00:30", "2026-11-22T10:01:00"),
        ("*/15 * * * *", "2026-11-22T10:16:00", "2026-11-22T10:30:00"),
        ("0 9 * * mon-fri", "2026-11-21T12:00:00", "2026-11-23T09:00:00"),  # Saturday -> Monday
        ("0 0 1 jan *", "2026-06-01T00:00:00", "2027-01-01T00:00:00"),
        ("0 12 13 * 5", "2026-11-01T00:00:00", "2026-11-06T12:00:00"),  # day 13 OR a Friday
        ("30 2 * * 0,7", "2026-11-22T03:00:00", "2026-11-29T02:30:00"),  # Sunday either way
        ("CRON_TZ=America/New_York 0 4 * * *", "2026-03-07T12:00:00", "2026-03-08T08:00:00"),  # EDT begins
        ("CRON_TZ=America/New_York 0 4 * * *", "2026-03-06T12:00:00", "2026-03-07T09:00:00"),  # still EST
    ],
)
def test_cron_next_fire(expression: str, after: str, expected: str) -> None:
    assert Cron.parse(expression).next_after(at(after)) == at(expected)


@pytest.mark.parametrize("expression", ["* * * *", "60 * * * *", "* 24 * * *", "CRON_TZ=Mars/Olympus * * * * *", "*/0 * * * *", "a * * * *"])
def test_bad_cron(expression: str) -> None:
    with pytest.raises(ValueError):
        Cron.parse(expression)


def test_headers_to_settings() -> None:
    settings = Settings.from_headers([
        ("content-type", "text/plain"),
        ("upstash-forward-x-one", "1"),
        ("Upstash-Forward-X-One", "2"),
        ("upstash-method", "put"),
        ("upstash-retries", "7"),
        ("upstash-delay", "1m"),
        ("upstash-timeout", "30s"),
        ("upstash-callback", "http://127.0.0.1:1/cb"),
        ("upstash-callback-forward-x-cb", "c"),
        ("upstash-callback-retries", "1"),
        ("upstash-failure-callback-x-f", "f"),
        ("upstash-content-based-deduplication", "TRUE"),
        ("upstash-flow-control-key", "tenant-1"),
        ("upstash-flow-control-value", "parallelism=2, rate=10, period=1m"),
        ("upstash-label", "l"),
        ("authorization", "Bearer secret"),
    ])
    assert settings.headers == {"Content-Type": ["text/plain"], "X-One": ["1", "2"]}
    assert (settings.method, settings.retries, settings.delay, settings.timeout) == ("PUT", 7, 60, 30)
    assert settings.content_based_deduplication and settings.label == "l"
    assert (settings.flow.key, settings.flow.parallelism, settings.flow.rate, settings.flow.period) == ("tenant-1", 2, 10, 60)
    forward, options = callback_settings(settings.callback_headers)
    assert forward == {"X-Cb": ["c"]} and options == {"retries": "1"}
    assert settings.failure_callback_headers == {"X-F": ["f"]}
    assert "Authorization" not in settings.headers  # only Upstash-Forward-* headers reach the destination


@pytest.mark.parametrize(
    "name, value",
    [("upstash-retries", "many"), ("upstash-retries", "-1"), ("upstash-method", "BREW"), ("upstash-callback", "ftp://x"),
     ("upstash-delay", "later"), ("upstash-retry-delay", "import os")],
)
def test_bad_headers(name: str, value: str) -> None:
    with pytest.raises(BadRequest):
        Settings.from_headers([(name, value)])


@pytest.mark.parametrize(
    "headers, seconds",
    [
        ({"Retry-After": ["12"]}, 12.0),
        ({"Retry-After": ["Sun, 22 Nov 2026 10:00:30 GMT"]}, 30.0),
        ({"X-Ratelimit-Reset": ["1795341645"]}, 45.0),  # unix seconds
        ({"X-Ratelimit-Reset": ["1795341605000"]}, 5.0),  # unix milliseconds
        ({"X-Ratelimit-Reset": ["20"]}, 20.0),  # seconds from now
        ({"Content-Type": ["text/plain"]}, None),
    ],
)
def test_destination_retry_hints(headers: dict, seconds: float | None) -> None:
    from devstack.qstash.engine.delivery import _retry_hint

    now_ms = int(at("2026-11-22T10:00:00").timestamp() * 1000)
    assert _retry_hint(headers, now_ms) == seconds
