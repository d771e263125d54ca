"""Retries and backoff, non-retryable 489, timeouts, the DLQ, callbacks and the event log."""

from __future__ import annotations

import base64
import json
import math

import pytest
from qstash.errors import QStashError
from qstash.log import LogState

from tests.integration.qstash.conftest import BACKOFF_SCALE, Harness
from tests.support.receiver import Answer


def test_retries_back_off_exponentially_then_dead_letter(qstash: Harness) -> None:
    qstash.receiver.script("/flaky", Answer(500), Answer(503), Answer(502))
    message_id = qstash.client.message.publish(url=qstash.receiver.url("/flaky"), body="x", retries=2).message_id
    deliveries = qstash.receiver.wait_count("/flaky", 3)
    assert [d.headers["Upstash-Retried"] for d in deliveries] == ["0", "1", "2"]
    for delivery in deliveries:
        qstash.verify(delivery, qstash.receiver.url("/flaky"))
    # The schedule the server computed: min(86400, e^(2.5 n)) seconds, times the test's scale.
    events = qstash.client.log.list(filter={"message_id": message_id}).logs
    retries = sorted((e for e in events if e.state.value == "RETRY"), key=lambda e: e.time)
    planned = [e.next_delivery_time - e.time for e in retries]
    expected = [math.exp(2.5 * n) * BACKOFF_SCALE * 1000 for n in (1, 2)]
    assert planned == [pytest.approx(ms, abs=2) for ms in expected]
    dead = qstash.client.dlq.list().messages
    assert [(m.message_id, m.response_status, m.response_body) for m in dead] == [(message_id, 502, "ok")]
    assert events[0].state.value == "FAILED"


def test_retry_after_and_retry_delay_expression_are_honoured(qstash: Harness) -> None:
    qstash.receiver.script("/throttled", Answer(429, {"Retry-After": "1"}))
    hinted = qstash.client.message.publish(url=qstash.receiver.url("/throttled"), body="x").message_id
    qstash.receiver.script("/expr", Answer(500), Answer(500))
    custom = qstash.client.message.publish(
        url=qstash.receiver.url("/expr"), body="x", retry_delay="1000 * (1 + retried)"
    ).message_id
    qstash.receiver.wait_count("/throttled", 2)
    qstash.receiver.wait_count("/expr", 3)
    [hint] = [e for e in qstash.client.log.list(filter={"message_id": hinted}).logs if e.state.value == "RETRY"]
    # The destination's wait is kept as it is; only the server's own schedule is scaled.
    assert hint.next_delivery_time - hint.time == pytest.approx(1000, abs=2)
    plans = sorted((e for e in qstash.client.log.list(filter={"message_id": custom}).logs if e.state.value == "RETRY"), key=lambda e: e.time)
    assert [p.next_delivery_time - p.time for p in plans] == [pytest.approx(v * BACKOFF_SCALE, abs=2) for v in (1000, 2000)]
    qstash.server.settle()
    qstash.server.advance(301)  # a delivered message is readable for five minutes, then gone
    with pytest.raises(QStashError, match="404"):
        qstash.client.message.get(custom)


def test_489_non_retryable_goes_straight_to_the_dlq(qstash: Harness) -> None:
    qstash.receiver.script("/poison", Answer(489, {"Upstash-NonRetryable-Error": "true"}, b'{"error":"bad input"}'))
    message_id = qstash.client.message.publish(
        url=qstash.receiver.url("/poison"), body="x", retries=5, failure_callback=qstash.receiver.url("/failed")
    ).message_id
    [failure] = qstash.receiver.wait_count("/failed", 1)
    assert len(qstash.receiver.at("/poison")) == 1
    payload = json.loads(failure.body)
    assert payload["status"] == 489 and payload["sourceMessageId"] == message_id and payload["retried"] == 0
    assert base64.b64decode(payload["body"]) == b'{"error":"bad input"}'
    assert payload["dlqId"] == qstash.client.dlq.list().messages[0].dlq_id


def test_a_489_without_the_header_is_retried(qstash: Harness) -> None:
    qstash.receiver.script("/odd", Answer(489))
    qstash.client.message.publish(url=qstash.receiver.url("/odd"), body="x", retries=1)
    qstash.receiver.wait_count("/odd", 2)


def test_timeouts_count_as_failed_attempts(qstash: Harness) -> None:
    qstash.receiver.script("/slow", Answer(200, delay=1.5))
    message_id = qstash.client.message.publish(url=qstash.receiver.url("/slow"), body="x", timeout="1s", retries=1).message_id
    qstash.receiver.wait_count("/slow", 2, timeout=15)
    errors = [e for e in qstash.client.log.list(filter={"message_id": message_id}).logs if e.state.value == "ERROR"]
    assert errors and "timeout" in errors[-1].error


def test_callbacks_after_each_attempt_and_failure_callback_after_the_last(qstash: Harness) -> None:
    qstash.receiver.script("/job", Answer(500, body=b"boom"))
    url = qstash.receiver.url("/job")
    message_id = qstash.client.message.publish(
        url=url, body=b"payload", retries=1, headers={"X-Src": "1"},
        callback=qstash.receiver.url("/cb"), failure_callback=qstash.receiver.url("/fcb"),
        callback_headers={"Forward-X-Cb": "yes"},
    ).message_id
    callbacks = qstash.receiver.wait_count("/cb", 2)
    payloads = sorted((json.loads(c.body) for c in callbacks), key=lambda p: p["retried"])
    assert [(p["status"], p["retried"], p["maxRetries"]) for p in payloads] == [(500, 0, 1), (200, 1, 1)]
    first = payloads[0]
    assert first["sourceMessageId"] == message_id and first["url"] == url and first["method"] == "POST"
    assert base64.b64decode(first["body"]) == b"boom" and base64.b64decode(first["sourceBody"]) == b"payload"
    assert first["sourceHeader"]["X-Src"] == ["1"]
    for callback in callbacks:
        assert callback.headers["X-Cb"] == "yes"
        qstash.verify(callback, qstash.receiver.url("/cb"))  # callbacks are signed too
    assert qstash.receiver.at("/fcb") == []  # the second attempt succeeded: no failure callback


def test_callbacks_are_retried(qstash: Harness) -> None:
    qstash.receiver.script("/cb", Answer(500))
    qstash.client.message.publish(url=qstash.receiver.url("/ok"), body="x", callback=qstash.receiver.url("/cb"))
    qstash.receiver.wait_count("/cb", 2)


def test_dlq_list_filter_get_delete_and_retry(qstash: Harness) -> None:
    for i in range(5):
        qstash.receiver.script(f"/d{i}", Answer(500))
        qstash.client.message.publish(url=qstash.receiver.url(f"/d{i}"), body=f"b{i}", retries=0, label="even" if i % 2 == 0 else "odd")
    dlq = qstash.client.dlq
    for i in range(5):
        qstash.receiver.wait_count(f"/d{i}", 1)
    qstash.receiver.wait_for(lambda _: len(dlq.list().messages) == 5)
    page = dlq.list(count=2)
    assert len(page.messages) == 2 and page.cursor
    rest = dlq.list(cursor=page.cursor, count=10)
    assert len(rest.messages) == 3 and rest.cursor is None
    assert {m.body for m in dlq.list(filter={"label": "even"}).messages} == {"b0", "b2", "b4"}
    assert [m.body for m in dlq.list(filter={"url": qstash.receiver.url("/d1")}).messages] == ["b1"]
    # Dead-letter order follows delivery order, which concurrency makes arbitrary: by body.
    ids = {m.body: m.dlq_id for m in page.messages + rest.messages}
    entry = dlq.get(ids["b0"])
    assert entry.response_status == 500 and entry.body == "b0"
    dlq.delete(ids["b0"])
    with pytest.raises(QStashError, match="404"):
        dlq.get(ids["b0"])
    assert dlq.delete_many([ids["b1"]]) == 1
    # Retry one (the SDK has no wrapper for it: its HTTP client calls the REST route).
    retried = qstash.client.http.request(path=f"/v2/dlq/retry/{ids['b2']}", method="POST", headers={"Upstash-Retries": "0"})
    assert retried["messageId"].startswith("msg_")
    deliveries = qstash.receiver.wait_count("/d2", 2)
    assert deliveries[-1].body == b"b2"
    bulk = qstash.client.http.request(path=f"/v2/dlq/retry?dlqIds={ids['b3']}&dlqIds={ids['b4']}", method="POST")
    assert len(bulk["responses"]) == 2
    qstash.receiver.wait_count("/d3", 2)
    qstash.receiver.wait_count("/d4", 2)


def test_events_filter_and_paginate(qstash: Harness) -> None:
    ids = [qstash.client.message.publish(url=qstash.receiver.url("/e"), body=str(i), label="ev").message_id for i in range(3)]
    qstash.receiver.wait_count("/e", 3)
    qstash.receiver.wait_for(lambda _: len(qstash.client.log.list(filter={"state": LogState.DELIVERED}).logs) == 3)
    first = qstash.client.log.list(count=4, filter={"label": "ev"})
    assert len(first.logs) == 4 and first.cursor
    second = qstash.client.log.list(count=100, cursor=first.cursor, filter={"label": "ev"})
    assert len(first.logs) + len(second.logs) == 9  # CREATED, ACTIVE, DELIVERED for each
    states = {e.state.value for e in first.logs + second.logs}
    assert states == {"CREATED", "ACTIVE", "DELIVERED"}
    assert {e.message_id for e in first.logs + second.logs} == set(ids)
    legacy = qstash.client.http.request(path="/v2/logs", method="GET", params={"messageId": ids[0]})
    assert [e["state"] for e in legacy["events"]] == ["DELIVERED", "ACTIVE", "CREATED"]
