"""The official JS SDK (@upstash/qstash, pinned in package.json) against the local server."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from devstack.qstash import DEV_CURRENT_SIGNING_KEY, DEV_NEXT_SIGNING_KEY, DEV_TOKEN
from tests.integration.qstash.conftest import Harness

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "tests" / "support" / "js" / "qstash_sdk.cjs"


def node(*args: str, stdin: bytes = b"") -> dict:
    assert (ROOT / "node_modules" / "@upstash" / "qstash").is_dir(), "run through `make test`, which runs npm ci"
    result = subprocess.run(
        [shutil.which("node") or "node", str(SCRIPT), *args], input=stdin, capture_output=True, cwd=ROOT, timeout=60
    )
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    return json.loads(result.stdout)


def test_js_publish_json_and_receiver_verify(qstash: Harness) -> None:
    url = qstash.receiver.url("/from-js")
    published = node("publish", qstash.server.url, DEV_TOKEN, url, json.dumps({"hello": "js"}))
    assert published["messageId"].startswith("msg_")
    [delivery] = qstash.receiver.wait_count("/from-js", 1)
    assert json.loads(delivery.body) == {"hello": "js"}
    assert delivery.headers["X-From"] == "js"
    assert delivery.headers["Upstash-Message-Id"] == published["messageId"]
    signature = delivery.headers["Upstash-Signature"]
    assert node("verify", DEV_CURRENT_SIGNING_KEY, DEV_NEXT_SIGNING_KEY, signature, url, stdin=delivery.body) == {"valid": True}
    # The same signature must not vouch for another body or another URL.
    for body, where in ((b'{"hello": "tampered"}', url), (delivery.body, qstash.receiver.url("/elsewhere"))):
        result = subprocess.run(
            ["node", str(SCRIPT), "verify", DEV_CURRENT_SIGNING_KEY, DEV_NEXT_SIGNING_KEY, signature, where],
            input=body, capture_output=True, cwd=ROOT, timeout=60,
        )
        assert result.returncode != 0 or json.loads(result.stdout) == {"valid": False}


def test_js_flow_control_management(qstash: Harness) -> None:
    """The JS SDK's flowControl API: pause holds the key's messages, pin and unpin set and
    release its configuration, resume delivers what waited."""
    url = qstash.receiver.url("/js-flow")
    for i in range(2):
        qstash.client.message.publish(url=url, body=str(i), flow_control={"key": "js-key", "parallelism": 1})
    qstash.receiver.wait_count("/js-flow", 2)
    paused, pinned, state = node("flow", qstash.server.url, DEV_TOKEN, "js-key", "pause,pin,get")
    assert paused is None and pinned is None
    assert state["flowControlKey"] == "js-key" and state["isPaused"] is True
    assert (state["parallelismMax"], state["rateMax"], state["ratePeriod"], state["isPinnedParallelism"], state["isPinnedRate"]) == (4, 10, 60, True, True)
    qstash.client.message.publish(url=url, body="held", flow_control={"key": "js-key", "parallelism": 1})
    qstash.server.settle()
    assert len(qstash.receiver.at("/js-flow")) == 2
    _, _, after, whole = node("flow", qstash.server.url, DEV_TOKEN, "js-key", "unpin,resume,get,global")
    qstash.receiver.wait_count("/js-flow", 3)
    assert after["isPaused"] is False and after["isPinnedParallelism"] is False and after["parallelismMax"] == 4
    assert whole["parallelismMax"] >= 1 and "parallelismCount" in whole


def test_js_llm_api_form(qstash: Harness) -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    published = node("llm", qstash.server.url, DEV_TOKEN, qstash.receiver.url("/js-llm"), qstash.receiver.url("/js-llm-answer"), json.dumps(body))
    [request] = qstash.receiver.wait_count("/js-llm/v1/chat/completions", 1)
    assert request.headers["Upstash-Message-Id"] == published["messageId"]
    assert request.headers["Authorization"] == "Bearer sk-local" and json.loads(request.body) == body
    qstash.receiver.wait_count("/js-llm-answer", 1)
