"""web.digest and web.page: the trends worker, Courier's worked example of a worker of
your own (scaffolded by `courier new worker web_digest --type web.digest`).

A digest fans out one web.page child per URL (each fetched politely and reduced to its
readable text, retried on its own if its site is down), and its continuation asks the AI
router's `generation` route for the topics and trends across the pages that came back,
each with the sources it rests on. A page that could not be read is listed, not fatal.
"""

from __future__ import annotations

import json
from typing import Any

from courier.jobs import CourierError, FanOut, InvalidInput, JobContext, JobResult, utc_now
from functions.web_digest.fetch import fetch
from functions.web_digest.inputs import WebDigestInput, WebPageInput

TASK_TYPE = "generation"
MAX_TOKENS = 1500
INSTRUCTIONS = (
    "You read web pages and report the topics and trends they share. Answer with one JSON object: "
    '{"topics": [{"name": str, "summary": str, "sources": [int]}], "trends": [{"trend": str, "evidence": str, "sources": [int]}]}. '
    "Cite pages by their [number]; use only what the pages say."
)


def digest(context: JobContext[WebDigestInput]) -> FanOut:
    spec = context.input
    context.progress("fetching", 0.0, f"{len(spec.urls)} pages")
    return context.fan_out([
        ("web.page", {"url": url, "maxBytes": spec.max_page_bytes, "maxChars": spec.max_chars_per_page}) for url in spec.urls
    ])


def page(context: JobContext[WebPageInput]) -> JobResult:
    spec = context.input
    fetched = fetch(spec.url, max_bytes=spec.max_bytes, timeout=min(20.0, max(1.0, context.remaining_seconds() - 10)))
    title, text = readable_text(fetched.body, spec.url, fetched.content_type)
    if not text.strip():
        raise InvalidInput(f"{spec.url} has no readable text", code="no_text")
    return {
        "url": spec.url, "title": title, "text": text[:spec.max_chars], "chars": len(text),
        "truncated": len(text) > spec.max_chars, "bytes": len(fetched.body), "fetchedAt": utc_now(),
    }


def readable_text(body: bytes, url: str, content_type: str) -> tuple[str | None, str]:
    """The page's title and main text, without menus, footers and ads (trafilatura)."""
    if content_type == "text/plain":
        return None, body.decode("utf-8", errors="replace")
    import trafilatura  # its import takes a while: on the first page only

    document = trafilatura.bare_extraction(body, url=url, with_metadata=True, include_comments=False, include_tables=True)
    if document is None:
        return None, ""
    if isinstance(document, dict):
        return document.get("title"), document.get("text") or ""
    return document.title, document.text or ""


def summarize(context: JobContext[WebDigestInput]) -> JobResult:
    """The continuation: the pages that came back, through the router, with their sources."""
    spec = context.input
    pages = [child.result for child in context.children if child.succeeded and child.result]
    failed = [{"url": _url(child.job_id, spec, context), "error": child.error} for child in context.children if not child.succeeded]
    sources = [{"n": n, "url": p["url"], "title": p.get("title")} for n, p in enumerate(pages, 1)]
    if not pages:
        raise InvalidInput(f"none of the {len(spec.urls)} pages could be read", code="no_pages")
    context.progress("summarising", 0.5, f"{len(pages)} pages")
    answer = context.router.route(TASK_TYPE, messages=[
        {"role": "system", "content": INSTRUCTIONS},
        {"role": "user", "content": prompt(pages, spec.focus)},
    ], json=True, max_tokens=MAX_TOKENS)
    report = parse_report(answer["output"], len(pages))
    return {
        **report, "sources": sources, "pages": {"read": len(pages), "failed": failed},
        "model": {"deployment": answer.get("deployment"), "usage": answer.get("usage")},
    }


def prompt(pages: list[dict[str, Any]], focus: str | None) -> str:
    parts = [f"Focus: {focus}" if focus else "Find what these pages have in common."]
    for n, page in enumerate(pages, 1):
        parts.append(f"[{n}] {page.get('title') or page['url']}\n{page['url']}\n{page['text']}")
    return "\n\n".join(parts)


def parse_report(output: Any, sources: int) -> dict[str, Any]:
    """The model's JSON, with citations kept to pages that exist; a reply that is not the
    asked shape is retried (another deployment, or the same one later)."""
    try:
        data = output if isinstance(output, dict) else json.loads(output)
        topics, trends = list(data.get("topics") or []), list(data.get("trends") or [])
    except (TypeError, ValueError, AttributeError):
        raise CourierError("the model did not answer with the report's JSON", code="bad_model_output", status=502) from None

    def cited(items: list[Any]) -> list[dict[str, Any]]:
        kept = []
        for item in items:
            if isinstance(item, dict):
                refs = [n for n in item.get("sources") or [] if isinstance(n, int) and 1 <= n <= sources]
                kept.append({**item, "sources": refs})
        return kept

    return {"topics": cited(topics), "trends": cited(trends)}


def _url(child_id: str, spec: WebDigestInput, context: JobContext[WebDigestInput]) -> str | None:
    """A failed child's URL: the children are the URLs, in order."""
    ids = [child.job_id for child in context.children]
    return spec.urls[ids.index(child_id)] if child_id in ids else None
