"""The trends worker end to end on loopback: pages served by a local site, one web.page
child per page, and the digest from the AI router (a fake OpenAI-compatible server)."""

from __future__ import annotations

import json

from devstack.model_server import ModelServer, Step
from tests.integration.jobs.conftest import Stack
from tests.support.receiver import Answer

HTML = {"Content-Type": "text/html; charset=utf-8"}


def article(title: str, body: str) -> bytes:
    return (
        f"<html><head><title>{title}</title></head><body><nav>Home | Pricing | Login</nav>"
        f"<article><h1>{title}</h1><p>{body}</p><p>{body}</p></article><footer>Cookie settings</footer></body></html>"
    ).encode()


REPORT = {
    "topics": [{"name": "Cheaper solar", "summary": "Panel prices fell.", "sources": [1, 2, 9]}],
    "trends": [{"trend": "Storage follows solar", "evidence": "Both pages expect batteries next.", "sources": [2]}],
}


def test_a_digest_reads_each_page_and_reports_topics_with_sources(stack: Stack, models: ModelServer) -> None:
    site = stack.receiver
    # The same rules however many children ask at once (as a site answers).
    site.script("/robots.txt", *[Answer(200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /private/\n")] * 8)
    site.script("/solar", Answer(200, HTML, article("Solar panels get cheaper", "Prices for solar panels fell again as factories expanded.")))
    site.script("/storage", Answer(503, {}, b"busy"), Answer(200, HTML, article("Batteries next", "Analysts expect home storage to follow solar.")))
    site.script("/binary", Answer(200, {"Content-Type": "application/zip"}, b"PK\x03\x04"))
    models.script("DeepSeek-V3-0324", Step(content=json.dumps(REPORT)))
    urls = [site.url(p) for p in ("/solar", "/storage", "/private/plans", "/binary")]
    accepted = stack.submit({"type": "web.digest", "input": {"urls": urls, "focus": "energy prices"}})
    done = stack.wait_status(accepted["jobId"], "succeeded", "failed", timeout=60)
    assert done["status"] == "succeeded", done
    result = done["result"]
    assert result["topics"][0]["sources"] == [1, 2]  # the model's citation of a page that does not exist is dropped
    assert result["trends"] == REPORT["trends"]
    assert [s["url"] for s in result["sources"]] == urls[:2]
    assert result["sources"][0]["title"] == "Solar panels get cheaper"
    failed = {f["url"]: f["error"]["code"] for f in result["pages"]["failed"]}
    assert failed == {urls[2]: "robots_disallowed", urls[3]: "not_a_page"}
    assert result["model"]["deployment"] == "DeepSeek-V3-0324"
    assert not site.at("/private/plans")  # robots.txt was obeyed: never requested
    # The model read each page's readable text, without the menus and footers.
    (call,) = models.calls("DeepSeek-V3-0324")
    sent = call.body["messages"][-1]["content"]
    assert "Prices for solar panels fell" in sent and "home storage" in sent and "Energy prices" not in sent
    assert "Cookie settings" not in sent and "Pricing | Login" not in sent and "energy prices" in sent
    # One child per page, each an ordinary job, listed on the parent.
    assert [c["type"] for c in done["children"]] == ["web.page"] * 4
    assert [c["status"] for c in done["children"]] == ["succeeded", "succeeded", "failed", "failed"]
    storage = stack.job(done["children"][1]["jobId"])
    assert storage["attempts"] == 2 and storage["result"]["title"] == "Batteries next"  # its site's 503 was retried


def test_a_digest_of_pages_that_all_fail_fails_clearly(stack: Stack, models: ModelServer) -> None:
    stack.receiver.script("/robots.txt", Answer(404, {}, b""))
    stack.receiver.script("/gone", Answer(404, {}, b"no"))
    accepted = stack.submit({"type": "web.digest", "input": {"urls": [stack.receiver.url("/gone")]}})
    failed = stack.wait_status(accepted["jobId"], "failed", timeout=30)
    assert failed["error"]["code"] == "no_pages" and failed["error"]["retryable"] is False
    assert models.calls() == []


def test_digest_input_is_checked_when_enqueued(stack: Stack) -> None:
    for data, code in (({"urls": []}, "invalid_input"), ({"urls": ["ftp://x/"]}, "unsupported_scheme"),
                       ({"urls": ["http://169.254.169.254/"]}, "forbidden_address"), ({"urls": ["https://a.test/"] * 2}, "invalid_input")):
        assert stack.submit({"type": "web.digest", "input": data}, expect=422)["error"]["code"] == code
