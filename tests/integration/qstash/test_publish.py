"""Publishing, batches, URL groups, deduplication, delays and cancelling, through the SDK."""

from __future__ import annotations

import json
import time

import pytest
from qstash import QStash
from qstash.errors import QStashError

from tests.integration.qstash.conftest import Harness


def test_publish_delivers_as_qstash_does(qstash: Harness) -> None:
    url = qstash.receiver.url("/hook?tenant=a%20b&x=1")
    response = qstash.client.message.publish(
        url=url, body=b'{"k": "v"}', content_type="application/json", method="PUT",
        headers={"X-Trace": "t-1", "Upstash-Forward-Api-Key": "k"},
    )
    assert response.message_id.startswith("msg_") and response.deduplicated is False
    [delivery] = qstash.receiver.wait_count("/hook", 1)
    assert delivery.method == "PUT"
    assert delivery.path == "/hook?tenant=a%20b&x=1"  # the raw query, never re-encoded
    assert delivery.body == b'{"k": "v"}'
    assert delivery.headers["Content-Type"] == "application/json"
    assert delivery.headers["X-Trace"] == "t-1" and delivery.headers["Api-Key"] == "k"
    assert delivery.headers["Upstash-Message-Id"] == response.message_id
    assert delivery.headers["Upstash-Retried"] == "0"
    assert delivery.headers["User-Agent"] == "Upstash-QStash"
    qstash.verify(delivery, url)


def test_publish_json_and_binary_bodies(qstash: Harness) -> None:
    qstash.client.message.publish_json(url=qstash.receiver.url("/json"), body={"a": [1, 2]})
    qstash.client.message.publish(url=qstash.receiver.url("/bin"), body=b"\x00\xff\x10")
    [json_delivery] = qstash.receiver.wait_count("/json", 1)
    [binary] = qstash.receiver.wait_count("/bin", 1)
    assert json.loads(json_delivery.body) == {"a": [1, 2]}
    assert binary.body == b"\x00\xff\x10"


def test_wrong_or_missing_token_is_refused(qstash: Harness) -> None:
    intruder = QStash("not-the-token", base_url=qstash.server.url, retry=False)
    with pytest.raises(QStashError, match="401"):
        intruder.message.publish(url=qstash.receiver.url("/x"), body="x")
    with pytest.raises(QStashError, match="401"):
        intruder.queue.list()
    assert qstash.receiver.received == []


def test_batch_mixes_urls_queues_and_groups(qstash: Harness) -> None:
    qstash.client.url_group.upsert_endpoints("fans", [{"url": qstash.receiver.url("/f1")}, {"url": qstash.receiver.url("/f2"), "name": "two"}])
    results = qstash.client.message.batch_json([
        {"url": qstash.receiver.url("/b1"), "body": {"n": 1}},
        {"url": qstash.receiver.url("/b2"), "body": {"n": 2}, "queue": "batchq"},
        {"url_group": "fans", "body": {"n": 3}},
    ])
    assert results[0].message_id and results[1].message_id
    assert sorted(r.url for r in results[2]) == [qstash.receiver.url("/f1"), qstash.receiver.url("/f2")]
    for path in ("/b1", "/b2", "/f1", "/f2"):
        qstash.receiver.wait_count(path, 1)
    assert qstash.client.queue.get("batchq").name == "batchq"


def test_url_group_fan_out(qstash: Harness) -> None:
    group = qstash.client.url_group
    group.upsert_endpoints("orders", [{"url": qstash.receiver.url("/a"), "name": "a"}, {"url": qstash.receiver.url("/b")}])
    assert [e.url for e in group.get("orders").endpoints] == [qstash.receiver.url("/a"), qstash.receiver.url("/b")]
    responses = qstash.client.message.publish(url_group="orders", body="hello")
    assert len(responses) == 2 and len({r.message_id for r in responses}) == 2
    deliveries = qstash.receiver.wait_count("/a", 1) + qstash.receiver.wait_count("/b", 1)
    for delivery in deliveries:
        assert delivery.headers["Upstash-Topic-Name"] == "orders"
        qstash.verify(delivery, qstash.receiver.url(delivery.path))
    group.remove_endpoints("orders", [{"name": "a"}])
    assert [e.url for e in group.get("orders").endpoints] == [qstash.receiver.url("/b")]
    assert [g.name for g in group.list()] == ["orders"]
    group.delete("orders")
    with pytest.raises(QStashError, match="404"):
        group.get("orders")
    with pytest.raises(QStashError, match="404"):
        qstash.client.message.publish(url_group="orders", body="x")


def test_deduplication_by_id_and_by_content(qstash: Harness) -> None:
    publish = qstash.client.message.publish
    url = qstash.receiver.url("/dedup")
    first = publish(url=url, body="one", deduplication_id="job-1")
    again = publish(url=url, body="different body, same id", deduplication_id="job-1")
    assert again.message_id == first.message_id and again.deduplicated is True
    content_a = publish(url=url, body="same", content_based_deduplication=True)
    content_b = publish(url=url, body="same", content_based_deduplication=True)
    other = publish(url=url, body="not the same", content_based_deduplication=True)
    assert content_b.message_id == content_a.message_id and content_b.deduplicated
    assert other.message_id != content_a.message_id
    qstash.receiver.wait_count("/dedup", 3)
    qstash.server.settle()
    assert len(qstash.receiver.at("/dedup")) == 3
    # The window is ten minutes: after it, the same id is a new message.
    qstash.server.advance(601)
    later = publish(url=url, body="one", deduplication_id="job-1")
    assert later.message_id != first.message_id and later.deduplicated is False


def test_delay_and_not_before_hold_the_message(qstash: Harness) -> None:
    delayed = qstash.client.message.publish(url=qstash.receiver.url("/later"), body="d", delay="2h")
    not_before = qstash.client.message.publish(url=qstash.receiver.url("/later"), body="n", not_before=int(time.time()) + 3600)
    message = qstash.client.message.get(delayed.message_id)
    assert message.not_before >= message.created_at + 2 * 3600 * 1000 - 1000
    qstash.server.settle()
    assert qstash.receiver.at("/later") == []  # the engine looked, and held both
    qstash.server.advance(3601)
    [first] = qstash.receiver.wait_count("/later", 1)
    assert first.body == b"n"
    qstash.server.advance(3600)
    qstash.receiver.wait_count("/later", 2)
    qstash.server.settle()
    qstash.server.advance(301)
    with pytest.raises(QStashError, match="404"):
        qstash.client.message.get(not_before.message_id)  # delivered, and kept readable for five minutes only


def test_a_delivered_message_stays_readable_by_its_id_for_a_few_minutes(qstash: Harness) -> None:
    published = qstash.client.message.publish(url=qstash.receiver.url("/read-back"), body="b", label="l")
    qstash.receiver.wait_count("/read-back", 1)
    qstash.server.settle()
    read = qstash.client.message.get(published.message_id)  # type: ignore[union-attr]
    assert (read.message_id, read.body, read.label) == (published.message_id, "b", "l")  # type: ignore[union-attr]
    qstash.server.advance(301)
    with pytest.raises(QStashError, match="404"):
        qstash.client.message.get(published.message_id)  # type: ignore[union-attr]


def test_get_and_cancel_messages(qstash: Harness) -> None:
    client = qstash.client
    ids = [client.message.publish(url=qstash.receiver.url(f"/c{i}"), body=str(i), delay=3600, label="batch-7").message_id for i in range(5)]
    message = client.message.get(ids[0])
    assert (message.url, message.body, message.method, message.label) == (qstash.receiver.url("/c0"), "0", "POST", "batch-7")
    client.message.cancel(ids[0])
    with pytest.raises(QStashError, match="404"):
        client.message.get(ids[0])
    with pytest.raises(QStashError, match="404"):
        client.message.cancel(ids[0])
    assert client.message.cancel_many(ids[1:3] + ["msg_unknown"]) == 2
    assert client.message.cancel_all() == 2
    qstash.server.advance(7200)
    qstash.server.settle()
    assert qstash.receiver.received == []
    states = [e.state.value for e in client.log.list(filter={"message_id": ids[0]}).logs]
    assert states[:2] == ["CANCELED", "CANCEL_REQUESTED"]


def test_bad_requests_are_400(qstash: Harness) -> None:
    with pytest.raises(QStashError, match="400"):
        qstash.client.message.publish(url=qstash.receiver.url("/x"), body="x", delay="soon")
    with pytest.raises(QStashError, match="400"):
        qstash.client.message.publish(url=qstash.receiver.url("/x"), body="x", retry_delay="__import__('os')")
    with pytest.raises(QStashError, match="404"):
        qstash.client.message.publish(url_group="no-such-group", body="x")


def test_the_llm_api_form_goes_to_the_providers_chat_completions_with_its_token(qstash: Harness) -> None:
    """`api={"name": "llm", "provider": custom(...)}`: the SDK aims the message at the provider's
    base URL and path, with the provider's token forwarded; locally, a fake model server."""
    from qstash.chat import custom

    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    provider = custom(qstash.receiver.url("/llm/v1/chat/completions"), "sk-local")
    qstash.client.message.publish_json(api={"name": "llm", "provider": provider}, body=body,
                                       callback=qstash.receiver.url("/llm-answer"))
    [request] = qstash.receiver.wait_count("/llm/v1/chat/completions", 1)
    assert request.headers["Authorization"] == "Bearer sk-local" and json.loads(request.body) == body
    [answer] = qstash.receiver.wait_count("/llm-answer", 1)
    assert json.loads(answer.body)["sourceMessageId"] == request.headers["Upstash-Message-Id"]
