"""Fan-out and fan-in through the real jobs API and workers on loopback: a batch.run job
starts its children, waits, and gathers their outcomes once the last one has ended."""

from __future__ import annotations

import httpx

from devstack.qstash.signing import DEV_TOKEN
from tests.integration.jobs.conftest import Stack, eventually


def batch(*jobs: dict[str, object]) -> dict[str, object]:
    return {"type": "batch.run", "input": {"jobs": list(jobs)}}


def test_a_batch_runs_its_children_and_gathers_their_results_and_errors(stack: Stack) -> None:
    texts = [f"page {i}" for i in range(6)]
    accepted = stack.submit(batch(
        *({"type": "text.hash", "input": {"text": t}} for t in texts),
        {"type": "demo.sleep", "input": {"fail": "fatal", "failTimes": 1}},
    ))
    done = stack.wait_status(accepted["jobId"], "succeeded", "failed", timeout=30)
    assert done["status"] == "succeeded", done
    result = done["result"]
    assert (result["succeeded"], result["failed"]) == (6, 1)
    assert [j["result"]["length"] for j in result["jobs"][:6]] == [len(t) for t in texts]
    assert result["jobs"][6]["status"] == "failed" and result["jobs"][6]["error"]["code"] == "demo_fatal"
    listed = done["children"]
    assert [c["jobId"] for c in listed] == [j["jobId"] for j in result["jobs"]]
    assert [c["status"] for c in listed] == ["succeeded"] * 6 + ["failed"]
    assert done["childrenPending"] == 0
    child = stack.job(listed[0]["jobId"])
    assert child["parentId"] == accepted["jobId"] and child["type"] == "text.hash"


def test_a_parent_waits_visibly_while_a_child_runs(stack: Stack) -> None:
    accepted = stack.submit(batch({"type": "demo.sleep", "input": {"seconds": 1.5}}, {"type": "text.hash", "input": {"text": "x"}}))
    waiting = stack.wait_status(accepted["jobId"], "waiting")
    assert len(waiting["children"]) == 2
    eventually(lambda: stack.job(accepted["jobId"])["childrenPending"] == 1, what="the quick child counted")
    done = stack.wait_status(accepted["jobId"], "succeeded")
    assert done["result"]["succeeded"] == 2 and done["childrenPending"] == 0


def test_a_redelivered_child_does_not_run_the_continuation_again(stack: Stack) -> None:
    accepted = stack.submit(batch({"type": "text.hash", "input": {"text": "once"}}))
    done = stack.wait_status(accepted["jobId"], "succeeded")
    child_id = done["children"][0]["jobId"]
    body = {"jobId": child_id, "type": "text.hash"}
    with httpx.Client(base_url=stack.qstash.url, headers={"Authorization": f"Bearer {DEV_TOKEN}"}) as qstash:
        for _ in range(3):  # the child's message again, as QStash would redeliver it
            assert qstash.post(f"/v2/publish/{stack.worker_urls['ai_router']}", json=body).status_code in (200, 201)
    stack.qstash.settle()
    after = stack.job(accepted["jobId"])
    # Not updatedAt: the resumed parent's dispatch may record its message id after the parent
    # already ran (QStash can deliver before it answers the publish). A second run would
    # change its attempts and its finishedAt.
    same = ("status", "attempts", "startedAt", "finishedAt", "result")
    assert {k: after.get(k) for k in same} == {k: done.get(k) for k in same} and after["status"] == "succeeded"


def test_children_are_checked_like_any_job_request(stack: Stack) -> None:
    """At enqueue, as the request itself is: nothing is recorded for a batch that would fail."""
    refused = stack.submit(batch({"type": "text.hash", "input": {"uploadKey": "uploads/globex/secret"}}), expect=403)
    assert refused["error"]["code"] == "forbidden_key"  # a child runs for the parent's tenant only
    nested = stack.submit(batch({"type": "batch.run", "input": {"jobs": [{"type": "text.hash", "input": {"text": "x"}}]}}), expect=422)
    assert nested["error"]["code"] == "invalid_input"
    unknown = stack.submit(batch({"type": "no.such", "input": {}}), expect=400)
    assert unknown["error"]["code"] == "unknown_job_type"
