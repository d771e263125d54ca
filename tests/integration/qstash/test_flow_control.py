"""QStash's flow-control management API, through the official Python SDK: each key's state,
the global parallelism, pause and resume, pin and unpin, resetRate, with their effects on
delivery; a key's configuration is the latest message's unless pinned (QStash's rule)."""

from __future__ import annotations

import pytest
from qstash.errors import QStashError

from tests.integration.qstash.conftest import Harness
from tests.support.receiver import Answer


def publish(qstash: Harness, path: str, n: int, **flow: object) -> None:
    for i in range(n):
        qstash.client.message.publish(url=qstash.receiver.url(f"{path}?i={i}"), body=str(i), flow_control=flow)  # type: ignore[arg-type]


def test_a_key_reports_its_wait_list_and_running_and_pin_changes_its_parallelism(qstash: Harness) -> None:
    flows = qstash.client.flow_control
    # The receiver counts a request once answered: the first is, and the second holds the key 2 s.
    qstash.receiver.script("/slow", Answer(200), Answer(200, delay=2.0), *[Answer(200, delay=0.5)] * 4)
    publish(qstash, "/slow", 6, key="tenant-a", parallelism=1)
    qstash.receiver.wait_count("/slow", 1)
    info = flows.get("tenant-a")
    assert (info.key, info.parallelism_max, info.parallelism_count, info.wait_list_size) == ("tenant-a", 1, 1, 4)
    assert (info.is_paused, info.is_pinned_parallelism, info.is_pinned_rate) == (False, False, False)
    assert flows.get_global_parallelism().parallelism_count == 1
    assert flows.get_global_parallelism().parallelism_max >= 1

    flows.pin("tenant-a", {"parallelism": 3})  # an operator clears the backlog faster, no deploy
    qstash.receiver.wait_count("/slow", 6)
    assert qstash.receiver.peak_concurrency["/slow"] == 3
    pinned = flows.get("tenant-a")
    assert pinned.parallelism_max == 3 and pinned.is_pinned_parallelism

    publish(qstash, "/later", 1, key="tenant-a", parallelism=1)  # pinned: the message's 1 is ignored
    qstash.receiver.wait_count("/later", 1)
    assert flows.get("tenant-a").parallelism_max == 3
    flows.unpin("tenant-a", {"parallelism": True})
    unpinned = flows.get("tenant-a")
    assert not unpinned.is_pinned_parallelism and unpinned.parallelism_max == 3  # until a message says otherwise
    publish(qstash, "/later", 1, key="tenant-a", parallelism=2)
    qstash.receiver.wait_count("/later", 2)
    assert flows.get("tenant-a").parallelism_max == 2
    assert "tenant-a" in [entry["flowControlKey"] for entry in qstash.client.http.request(path="/v2/flowControl", method="GET")]


def test_a_paused_key_holds_its_messages_through_a_restart_and_resume_delivers_them(qstash: Harness) -> None:
    flows = qstash.client.flow_control
    flows.pause("maintenance")  # before its first message: that message waits too
    publish(qstash, "/held", 3, key="maintenance", parallelism=5)
    qstash.server.settle()
    assert qstash.receiver.at("/held") == []
    qstash.restart()
    flows = qstash.client.flow_control
    held = flows.get("maintenance")
    assert held.is_paused and held.wait_list_size == 3 and held.parallelism_max == 5
    qstash.server.settle()
    assert qstash.receiver.at("/held") == []
    flows.resume("maintenance")
    qstash.receiver.wait_count("/held", 3)
    assert not flows.get("maintenance").is_paused and flows.get("maintenance").wait_list_size == 0


def test_rate_counts_in_its_period_and_reset_rate_ends_the_period(qstash: Harness) -> None:
    flows = qstash.client.flow_control
    publish(qstash, "/rated", 3, key="rated", rate=1, period="1h")
    qstash.receiver.wait_count("/rated", 1)
    qstash.server.settle()
    info = flows.get("rated")
    assert (len(qstash.receiver.at("/rated")), info.rate_max, info.rate_count, info.rate_period) == (1, 1, 1, 3600)
    assert info.wait_list_size == 2 and info.rate_period_start > 0
    flows.reset_rate("rated")
    qstash.receiver.wait_count("/rated", 2)
    qstash.server.settle()
    assert len(qstash.receiver.at("/rated")) == 2
    flows.pin("rated", {"rate": 5, "period": 60})  # pinning resets the window as well
    qstash.receiver.wait_count("/rated", 3)
    pinned = flows.get("rated")
    assert (pinned.rate_max, pinned.rate_period, pinned.is_pinned_rate) == (5, 60, True)


def test_unknown_keys_and_bad_pins_are_refused(qstash: Harness) -> None:
    with pytest.raises(QStashError, match="404"):
        qstash.client.flow_control.get("never-seen")
    with pytest.raises(QStashError, match="400"):
        qstash.client.flow_control.pin("k", {})
    with pytest.raises(QStashError, match="400"):
        qstash.client.flow_control.pin("k", {"parallelism": 0})


def test_a_schedule_shows_its_flow_controls_settings_as_a_message_does(qstash: Harness) -> None:
    schedule_id = qstash.client.schedule.create(
        destination=qstash.receiver.url("/cron"), cron="0 3 * * *", body="x",
        flow_control={"key": "nightly", "parallelism": 2, "rate": 5, "period": "10s"},
    )
    control = qstash.client.schedule.get(schedule_id).flow_control
    assert control is not None and (control.key, control.parallelism, control.rate, control.period) == ("nightly", 2, 5, 10)
    message_id = qstash.client.message.publish(url=qstash.receiver.url("/m"), body="x", delay="1h",
                                               flow_control={"key": "k2", "parallelism": 4}).message_id  # type: ignore[union-attr]
    message = qstash.client.message.get(message_id).flow_control
    assert message is not None and (message.key, message.parallelism) == ("k2", 4)


def test_a_backlog_behind_a_key_at_its_limit_is_not_read_again_on_each_delivery(qstash: Harness) -> None:
    """Each delivery's end wakes the engine: the messages waiting behind a key at its
    parallelism are held without being read from the store again (they were, every pass: a
    thousand-message backlog cost a thousand reads per delivery and slowed every key)."""
    engine = qstash.server.engine
    assert engine is not None
    qstash.receiver.script("/held", *[Answer(200, delay=0.2)] * 60)
    reads = [0]
    read = engine.store.get_message

    def counted(message_id: str) -> object:
        reads[0] += 1
        return read(message_id)

    engine.store.get_message = counted  # type: ignore[method-assign]
    try:
        publish(qstash, "/held", 60, key="backlog", parallelism=2)
        qstash.receiver.wait_count("/held", 20, timeout=30)
    finally:
        engine.store.get_message = read  # type: ignore[method-assign]
    started = len(qstash.receiver.at("/held")) + 2  # answered, and the two running
    assert reads[0] <= 2 * started, (reads[0], started)
