"""Schedules on loopback: the jobs API records them, the local QStash server keeps the
clock (advanced here, a minute at a time) and fires each one, signed, to the schedule hook."""

from __future__ import annotations

import json

import httpx

from devstack.qstash.signing import DEV_CURRENT_SIGNING_KEY, DEV_NEXT_SIGNING_KEY, DEV_TOKEN
from tests.integration.jobs.conftest import Stack, eventually
from tests.support.qstash_tokens import sign

HOOK = "/v1/hooks/qstash/schedule"
HASH = {"type": "text.hash", "input": {"text": "tick"}}


def create(stack: Stack, body: dict[str, object], tenant: str = "acme", expect: int = 201) -> dict[str, object]:
    response = stack.api.post("/v1/schedules", json=body, headers=stack.headers(tenant))
    assert response.status_code == expect, response.text
    return response.json()


def jobs_of(stack: Stack, schedule_id: str) -> list[dict[str, object]]:
    listed = stack.api.get("/v1/jobs", params={"type": "text.hash"}, headers=stack.headers()).json()["jobs"]
    return [j for j in listed if j.get("scheduleId") == schedule_id]


def fire_minutes(stack: Stack, minutes: int) -> None:
    for _ in range(minutes):
        stack.qstash.advance(60)
        stack.qstash.settle()


def test_a_schedule_fires_one_ordinary_job_a_minute_and_shows_its_runs(stack: Stack) -> None:
    created = create(stack, {"cron": "* * * * *", **HASH})
    schedule_id = str(created["scheduleId"])
    assert created["nextRunAt"] and created["paused"] is False
    fire_minutes(stack, 3)
    eventually(lambda: len(jobs_of(stack, schedule_id)) == 3, what="three firings, three jobs")
    for job in jobs_of(stack, schedule_id):
        done = stack.wait_status(str(job["jobId"]), "succeeded")
        assert done["scheduleId"] == schedule_id and done["result"]["length"] == 4
    shown = stack.api.get(f"/v1/schedules/{schedule_id}", headers=stack.headers()).json()
    assert shown["runs"] == 3
    assert {r["jobId"] for r in shown["lastRuns"]} == {j["jobId"] for j in jobs_of(stack, schedule_id)}
    assert {r["status"] for r in shown["lastRuns"]} == {"succeeded"}
    assert [s["scheduleId"] for s in stack.api.get("/v1/schedules", headers=stack.headers()).json()["schedules"]] == [schedule_id]


def test_a_redelivered_firing_creates_one_job_not_two(stack: Stack) -> None:
    schedule_id = str(create(stack, {"cron": "0 3 * * *", **HASH})["scheduleId"])
    body = json.dumps({"scheduleId": schedule_id}).encode()
    url = stack.api_url + HOOK
    answers = []
    for key in (DEV_CURRENT_SIGNING_KEY, DEV_NEXT_SIGNING_KEY):  # the same message, signed with either key
        headers = {"Upstash-Signature": sign(body, url, key=key), "Upstash-Message-Id": "msg_same_firing", "Content-Type": "application/json"}
        answers.append(httpx.post(url, content=body, headers=headers).json())
    assert answers[0]["jobId"] == answers[1]["jobId"]
    assert len(jobs_of(stack, schedule_id)) == 1
    assert stack.api.get(f"/v1/schedules/{schedule_id}", headers=stack.headers()).json()["runs"] == 1


def test_paused_schedules_do_not_fire_and_resumed_ones_do(stack: Stack) -> None:
    schedule_id = str(create(stack, {"cron": "* * * * *", **HASH})["scheduleId"])
    paused = stack.api.post(f"/v1/schedules/{schedule_id}/pause", headers=stack.headers()).json()
    assert paused["paused"] is True and paused["nextRunAt"] is None
    fire_minutes(stack, 2)
    assert jobs_of(stack, schedule_id) == []
    assert stack.api.post(f"/v1/schedules/{schedule_id}/resume", headers=stack.headers()).json()["paused"] is False
    fire_minutes(stack, 1)
    eventually(lambda: len(jobs_of(stack, schedule_id)) == 1, what="a firing after resume")
    assert stack.api.delete(f"/v1/schedules/{schedule_id}", headers=stack.headers()).status_code == 200
    fire_minutes(stack, 1)
    assert len(jobs_of(stack, schedule_id)) == 1
    assert stack.api.get(f"/v1/schedules/{schedule_id}", headers=stack.headers()).status_code == 404
    with httpx.Client(base_url=stack.qstash.url, headers={"Authorization": f"Bearer {DEV_TOKEN}"}) as q:
        assert schedule_id not in [s["scheduleId"] for s in q.get("/v2/schedules").json()]


def test_time_zones_are_given_to_qstash_as_cron_tz(stack: Stack) -> None:
    schedule_id = str(create(stack, {"cron": "30 9 * * 1-5", "timezone": "Asia/Kolkata", **HASH})["scheduleId"])
    with httpx.Client(base_url=stack.qstash.url, headers={"Authorization": f"Bearer {DEV_TOKEN}"}) as q:
        assert q.get(f"/v2/schedules/{schedule_id}").json()["cron"] == "CRON_TZ=Asia/Kolkata 30 9 * * 1-5"
    shown = stack.api.get(f"/v1/schedules/{schedule_id}", headers=stack.headers()).json()
    assert shown["nextRunAt"].endswith("T04:00:00Z")  # 09:30 in India is 04:00 UTC


BAD_SCHEDULES = [
    ({"cron": "61 * * * *", **HASH}, 400, "invalid_cron"),
    ({"cron": "* * *", **HASH}, 400, "invalid_cron"),
    ({"cron": "* * * * *", "timezone": "Mars/Olympus", **HASH}, 400, "invalid_timezone"),
    ({"cron": "CRON_TZ=UTC * * * * *", "timezone": "UTC", **HASH}, 400, "invalid_cron"),
    ({"cron": "* * * * *", "type": "no.such", "input": {}}, 400, "unknown_job_type"),
    ({"cron": "* * * * *", "type": "text.hash", "input": {}}, 422, "invalid_input"),
    ({"cron": "* * * * *", "type": "text.hash", "input": {"uploadKey": "uploads/globex/x"}}, 403, "forbidden_key"),
]


def test_a_bad_schedule_is_refused_with_the_error_shape_and_nothing_is_kept(stack: Stack) -> None:
    for body, status, code in BAD_SCHEDULES:
        response = stack.api.post("/v1/schedules", json=body, headers=stack.headers())
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), body
    assert stack.api.get("/v1/schedules", headers=stack.headers()).json()["schedules"] == []
    with httpx.Client(base_url=stack.qstash.url, headers={"Authorization": f"Bearer {DEV_TOKEN}"}) as q:
        assert q.get("/v2/schedules").json() == []


def test_schedules_are_the_tenants_own(stack: Stack) -> None:
    schedule_id = str(create(stack, {"cron": "* * * * *", **HASH})["scheduleId"])
    for method, path in (("GET", ""), ("POST", "/pause"), ("DELETE", "")):
        response = stack.api.request(method, f"/v1/schedules/{schedule_id}{path}", headers=stack.headers("globex"))
        assert response.status_code == 404 and response.json()["error"]["code"] == "schedule_not_found"
    assert stack.api.get("/v1/schedules", headers=stack.headers("globex")).json()["schedules"] == []


def test_an_unsigned_firing_is_refused_and_creates_nothing(stack: Stack) -> None:
    schedule_id = str(create(stack, {"cron": "0 3 * * *", **HASH})["scheduleId"])
    response = httpx.post(stack.api_url + HOOK, json={"scheduleId": schedule_id}, headers={"Upstash-Message-Id": "m"})
    assert response.status_code == 401 and response.json()["error"]["code"]
    assert jobs_of(stack, schedule_id) == []


def test_a_firing_the_tenant_may_no_longer_make_is_acknowledged_and_shown(stack: Stack) -> None:
    assert stack.api.put("/v1/allowed-hosts", json={"hosts": ["127.0.0.1"]}, headers=stack.headers()).status_code == 200
    body = {"cron": "* * * * *", "type": "http.request", "input": {"url": stack.receiver.url("/nightly")}}
    schedule_id = str(create(stack, body)["scheduleId"])
    stack.api.put("/v1/allowed-hosts", json={"hosts": []}, headers=stack.headers())  # taken back
    fire_minutes(stack, 1)
    shown = stack.api.get(f"/v1/schedules/{schedule_id}", headers=stack.headers()).json()
    (run,) = shown["lastRuns"]
    assert run["status"] == "refused" and run["jobId"] is None and run["error"]["code"] == "host_not_allowed"
    assert stack.receiver.at("/nightly") == []
    with httpx.Client(base_url=stack.qstash.url, headers={"Authorization": f"Bearer {DEV_TOKEN}"}) as q:
        assert q.get("/v2/dlq").json()["messages"] == []  # acknowledged: QStash does not retry it into its DLQ
