"""The web_digest worker's own pieces, without AWS: its catalogue entry, text extraction,
and how it reads the model's report. (End to end: tests/integration/jobs/test_web_digest.py
and tests/e2e/test_your_own_work.py.)"""

from __future__ import annotations

import pytest

from courier.errors import CourierError, InvalidInput
from courier.jobs import catalog
from courier.jobs.registry import JobRegistry
from functions.web_digest.jobs import parse_report, prompt, readable_text

PAGE = b"""<html><head><title>Heat pumps</title></head><body>
<nav>Home | Shop | Sign in</nav>
<article><h1>Heat pumps outsell gas boilers</h1>
<p>For the first time, installers fitted more heat pumps than gas boilers this quarter, the trade body said.</p>
<p>Subsidies and falling prices drove the change, according to installers in three countries.</p></article>
<footer>Accept cookies</footer></body></html>"""


def test_the_catalogue_routes_both_types_to_this_worker_with_a_continuation() -> None:
    catalog.load().check()
    assert JobRegistry.for_worker("web_digest").job_types == ("web.digest", "web.page")
    declared = {t.name: t for t in catalog.load().job_types}
    assert declared["web.digest"].continuation == "functions.web_digest.jobs:summarize"
    assert next(w for w in catalog.load().workers if w.name == "web_digest").layers == ("deps", "web_digest-deps")


def test_readable_text_keeps_the_article_and_drops_the_chrome() -> None:
    title, text = readable_text(PAGE, "https://news.test/heat", "text/html")
    assert title == "Heat pumps outsell gas boilers"
    assert "more heat pumps than gas boilers" in text and "Subsidies" in text
    assert "Sign in" not in text and "cookies" not in text
    assert readable_text(b"plain words", "https://x.test/a.txt", "text/plain") == (None, "plain words")


def test_the_report_keeps_only_citations_of_pages_that_exist() -> None:
    report = parse_report('{"topics": [{"name": "a", "sources": [1, 3, "2", 0]}], "trends": [{"trend": "b", "sources": [2]}, "junk"]}', 2)
    assert report == {"topics": [{"name": "a", "sources": [1]}], "trends": [{"trend": "b", "sources": [2]}]}
    with pytest.raises(CourierError) as caught:
        parse_report("not json", 2)
    assert caught.value.retryable and caught.value.code == "bad_model_output"


def test_the_prompt_numbers_each_page_with_its_url() -> None:
    text = prompt([{"url": "https://a.test/", "title": "A", "text": "alpha"}, {"url": "https://b.test/", "title": None, "text": "beta"}], "rust")
    assert text.startswith("Focus: rust") and "[1] A\nhttps://a.test/\nalpha" in text and "[2] https://b.test/" in text


def test_page_input_is_checked_by_the_network_policy() -> None:
    with pytest.raises(InvalidInput) as caught:
        catalog.load().validate_input("web.page", {"url": "https://10.0.0.1/admin"})
    assert caught.value.code == "forbidden_address"
