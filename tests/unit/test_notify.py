"""Callbacks: QStash first; a direct POST only when QStash is unavailable, never after it
refused the URL; the network policy first; and how it went is recorded on the job."""

from __future__ import annotations

from typing import Any

import pytest
from qstash.errors import QStashError

from courier.jobs.models import Job, JobStatus, utc_now
from courier.jobs.notify import Notifier, qstash_refused
from courier.network import NetworkPolicy
from courier.secrets import QStashCredentials
from tests.support.qstash_tokens import CURRENT_KEY, NEXT_KEY
from tests.support.receiver import Receiver


class QStashThat:
    """The SDK client's shape (client.message.publish) failing the way QStash can."""

    def __init__(self, error: Exception | None) -> None:
        self.error, self.published = error, []
        self.message = self

    def publish(self, **options: Any) -> None:
        if self.error:
            raise self.error
        self.published.append(options)


class Log:
    def __init__(self) -> None:
        self.entries: list[tuple[str, dict]] = []

    def record_callback(self, job_id: str, delivery: dict) -> None:
        self.entries.append((job_id, delivery))


def finished(url: str) -> Job:
    now = utc_now()
    return Job("job_1", "acme", "text.hash", JobStatus.SUCCEEDED, {}, now, now, result={"ok": True}, callback_url=url, finished_at=now)


def notifier(qstash: QStashThat | None, log: Log, policy: NetworkPolicy) -> Notifier:
    return Notifier((lambda: qstash) if qstash else None, lambda: QStashCredentials(None, CURRENT_KEY, NEXT_KEY), log=log, policy=policy)


@pytest.mark.parametrize(
    "error, refused",
    [(QStashError("Request failed with status: 400, body: invalid destination url"), True),
     (QStashError("Request failed with status: 403, body: forbidden"), True),
     (QStashError("Request failed with status: 500, body: oops"), False),
     (QStashError("Request failed with status: 429, body: slow down"), False),
     (ConnectionError("refused"), False)],
)
def test_what_counts_as_a_refusal(error: Exception, refused: bool) -> None:
    assert qstash_refused(error) is refused


def test_a_qstash_refusal_is_final_and_recorded() -> None:
    log = Log()
    with Receiver() as receiver:
        url = receiver.url("/cb")
        delivery = notifier(QStashThat(QStashError("Request failed with status: 400, body: bad url")), log, NetworkPolicy.local()).job_finished(finished(url))
        assert delivery and delivery["status"] == "refused" and delivery["via"] == "qstash"
        assert receiver.at("/cb") == []  # no direct POST after a refusal
    assert log.entries == [("job_1", delivery)]


def test_qstash_unavailable_falls_back_to_one_signed_direct_post() -> None:
    log = Log()
    with Receiver() as receiver:
        url = receiver.url("/cb")
        delivery = notifier(QStashThat(QStashError("Request failed with status: 503, body: down")), log, NetworkPolicy.local()).job_finished(finished(url))
        assert delivery and (delivery["status"], delivery["via"]) == ("sent", "direct")
        [post] = receiver.wait_count("/cb", 1)
        assert post.headers["Upstash-Signature"]
    assert log.entries[0][1]["status"] == "sent"


def test_the_policy_is_applied_before_qstash_and_before_a_direct_post() -> None:
    log, qstash = Log(), QStashThat(None)
    delivery = notifier(qstash, log, NetworkPolicy()).job_finished(finished("https://127.0.0.1/cb"))
    assert delivery and delivery["status"] == "refused" and qstash.published == []
    unresolvable = notifier(None, Log(), NetworkPolicy(resolver=lambda h, p: ["10.0.0.7"])).job_finished(finished("https://hooks.example.com/cb"))
    assert unresolvable and unresolvable["status"] == "refused"
