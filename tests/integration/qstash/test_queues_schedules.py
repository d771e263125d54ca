"""Queues (FIFO, parallelism, pause), schedules (cron, CRON_TZ, pause) and signing keys."""

from __future__ import annotations

import pytest
from qstash.errors import QStashError
from qstash.schedule import ScheduleState

from devstack.qstash import DEV_NEXT_SIGNING_KEY
from tests.integration.qstash.conftest import Harness
from tests.support.receiver import Answer


def test_queue_crud_pause_and_resume(qstash: Harness) -> None:
    queues = qstash.client.queue
    queues.upsert("work", parallelism=2)
    queue = queues.get("work")
    assert (queue.name, queue.parallelism, queue.paused, queue.lag) == ("work", 2, False, 0)
    queues.pause("work")
    for i in range(3):
        qstash.client.message.enqueue(queue="work", url=qstash.receiver.url("/q"), body=str(i))
    qstash.server.settle()
    assert qstash.receiver.at("/q") == [] and queues.get("work").lag == 3  # a paused queue holds
    queues.resume("work")
    qstash.receiver.wait_count("/q", 3)
    assert [q.name for q in queues.list()] == ["work"]
    queues.delete("work")
    with pytest.raises(QStashError, match="404"):
        queues.get("work")


def test_queue_is_fifo_and_a_retry_holds_its_place(qstash: Harness) -> None:
    qstash.receiver.script("/fifo", Answer(500))  # the first message fails once
    for i in range(6):
        qstash.client.message.enqueue_json(queue="ordered", url=qstash.receiver.url("/fifo"), body={"n": i})
    deliveries = qstash.receiver.wait_count("/fifo", 7)
    order = [int(d.body.decode().split(":")[1].strip(" }")) for d in deliveries]
    assert order == [0, 0, 1, 2, 3, 4, 5]


def test_queue_parallelism_bounds_concurrency(qstash: Harness) -> None:
    qstash.client.queue.upsert("pair", parallelism=2)
    qstash.receiver.script("/par", *[Answer(200, delay=0.3)] * 6)
    for i in range(6):
        qstash.client.message.enqueue(queue="pair", url=qstash.receiver.url("/par"), body=str(i))
    qstash.receiver.wait_count("/par", 6, timeout=20)
    assert qstash.receiver.peak_concurrency["/par"] == 2  # two at a time, never three


def test_schedule_lifecycle_and_firing(qstash: Harness) -> None:
    schedules = qstash.client.schedule
    url = qstash.receiver.url("/tick")
    schedule_id = schedules.create_json(destination=url, cron="*/5 * * * *", body={"hello": "cron"}, retries=1, label="tick")
    schedule = schedules.get(schedule_id)
    assert (schedule.destination, schedule.cron, schedule.retries, schedule.paused) == (url, "*/5 * * * *", 1, False)
    assert [s.schedule_id for s in schedules.list()] == [schedule_id]
    qstash.server.advance(5 * 60)
    [delivery] = qstash.receiver.wait_count("/tick", 1)
    assert delivery.headers["Upstash-Schedule-Id"] == schedule_id and delivery.body == b'{"hello": "cron"}'
    qstash.verify(delivery, url)
    fired = qstash.receiver.wait_for(lambda _: schedules.get(schedule_id).last_schedule_states and
                                     set(schedules.get(schedule_id).last_schedule_states.values()) == {ScheduleState.SUCCESS})
    assert fired
    after = schedules.get(schedule_id)
    assert after.next_schedule_time > after.last_schedule_time
    schedules.pause(schedule_id)
    assert schedules.get(schedule_id).paused is True
    qstash.server.advance(10 * 60)
    qstash.server.settle()
    assert len(qstash.receiver.at("/tick")) == 1
    schedules.resume(schedule_id)
    qstash.server.advance(5 * 60)
    qstash.receiver.wait_count("/tick", 2)
    # The same id again updates the schedule (upsert).
    assert schedules.create(destination=url, cron="0 * * * *", schedule_id=schedule_id) == schedule_id
    assert schedules.get(schedule_id).cron == "0 * * * *"
    schedules.delete(schedule_id)
    with pytest.raises(QStashError, match="404"):
        schedules.get(schedule_id)


def test_schedule_time_zones_and_queues(qstash: Harness) -> None:
    schedule_id = qstash.client.schedule.create(
        destination=qstash.receiver.url("/tz"), cron="CRON_TZ=Asia/Tokyo 0 9 * * *", queue="tzq", body="x"
    )
    schedule = qstash.client.schedule.get(schedule_id)
    assert schedule.queue == "tzq"
    # 09:00 in Tokyo is 00:00 UTC: whatever the day, the next firing is at midnight UTC.
    assert schedule.next_schedule_time % 86_400_000 == 0
    now = qstash.server.clock.time()
    with pytest.raises(QStashError, match="400"):
        qstash.client.schedule.create(destination=qstash.receiver.url("/tz"), cron="61 * * * *")
    seconds_to_midnight = 86400 - (now % 86400)
    qstash.server.advance(seconds_to_midnight + 1)
    [delivery] = qstash.receiver.wait_count("/tz", 1)
    assert delivery.headers["Upstash-Schedule-Id"] == schedule_id


def test_signing_keys_get_and_rotate(qstash: Harness) -> None:
    keys = qstash.client.signing_key.get()
    assert keys.next == DEV_NEXT_SIGNING_KEY
    rotated = qstash.client.signing_key.rotate()
    assert rotated.current == keys.next and rotated.next not in (keys.current, keys.next)
    qstash.client.message.publish(url=qstash.receiver.url("/rot"), body="x")
    [delivery] = qstash.receiver.wait_count("/rot", 1)
    qstash.verify(delivery, qstash.receiver.url("/rot"), keys=(rotated.current, rotated.next))
    # An app still configured with the old pair accepts it too: the old "next" is the new current.
    qstash.verify(delivery, qstash.receiver.url("/rot"), keys=(keys.current, keys.next))
    assert qstash.client.signing_key.get() == rotated


def test_flow_control_parallelism_and_rate(qstash: Harness) -> None:
    publish = qstash.client.message.publish
    qstash.receiver.script("/fc", *[Answer(200, delay=0.2)] * 4)
    for i in range(4):  # to four URLs: only the shared key ties them together
        publish(url=qstash.receiver.url(f"/fc?i={i}"), body=str(i), flow_control={"key": "tenant-1", "parallelism": 1})
    qstash.receiver.wait_count("/fc", 4)
    assert qstash.receiver.peak_concurrency["/fc"] == 1
    # A rate of one per hour: one now, the next only when the (test) clock has moved on.
    for i in range(2):
        publish(url=qstash.receiver.url("/rate"), body=str(i), flow_control={"key": "tenant-2", "rate": 1, "period": "1h"})
    qstash.receiver.wait_count("/rate", 1)
    qstash.server.settle()
    assert len(qstash.receiver.at("/rate")) == 1
    qstash.server.advance(3601)
    qstash.receiver.wait_count("/rate", 2)
