"""The optional multimodal analysis: a caption per keyframe by the vision route, one
image per request (Phi-4-multimodal takes one), then a summary by the generation route.

Optional means it never fails the job: a missing model skips it, a failing model is
reported in the result (which keyframes, what error), and the cuts, keyframes and
metrics are delivered either way.

Given the job's steps, a route whose every deployment says `offload` is asked by durable
calls (`caption-N:call:1`, ..., `summary:call:1`): QStash makes each while no Lambda
waits, one at a time, since each ends the run. Other routes are asked in process, the
captions side by side, the summary as a step of its own.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from courier.errors import CourierError

if TYPE_CHECKING:  # the router (pydantic models, the AI catalogue) loads when a model is asked
    from courier.ai.client import RouterClient
    from courier.ai.request import ChatRequest
    from courier.jobs.steps import Steps

#: Why the analysis was skipped when nothing serves the vision route.
NO_VISION_MODEL = "no vision model is configured: no deployment of the 'vision' route has an endpoint"

CAPTION_PROMPT = (
    "This is one frame of a short social video. In one sentence, say what is shown: "
    "subject, setting, action, and any on-screen text."
)
SUMMARY_PROMPT = (
    "These are captions of a short social video's keyframes, with their times in seconds. "
    "Write a three-sentence summary for a content team: what the video is about, how it "
    "opens (the first 3 seconds decide whether viewers stay), and its style.\n\n{captions}"
)
#: Captions run side by side; a deployment's rate limit, not our CPU, is the bound.
PARALLEL_CAPTIONS = 4
CALL_DEADLINE_SECONDS = 60.0


@dataclass(frozen=True)
class Frame:
    time: float
    jpeg: bytes


def skipped(reason: str) -> dict[str, Any]:
    return {"status": "skipped", "reason": reason}


def analyze_frames(frames: list[Frame], router: RouterClient, *, requested: bool | None, steps: Steps | None = None) -> dict[str, Any]:
    """`requested` is the job's `options.analyze`: None analyses when a model is configured."""
    if requested is False:
        return skipped("not requested (options.analyze is false)")
    if not router.available("vision"):
        return skipped(NO_VISION_MODEL)
    if not frames:
        return skipped("the video has no keyframes")
    if steps is not None and router.offloads("vision"):
        captions = [_caption(router, frame, steps, f"caption-{n + 1}") for n, frame in enumerate(frames)]
    else:
        with ThreadPoolExecutor(max_workers=min(PARALLEL_CAPTIONS, len(frames))) as pool:
            captions = list(pool.map(lambda frame: _caption(router, frame), frames))
    cost = sum(c.pop("costUsd", 0.0) for c in captions)
    described = [c for c in captions if "caption" in c]
    analysis: dict[str, Any] = {"status": "done" if len(described) == len(frames) else "partial", "captions": captions}
    if not described:
        analysis["status"] = "failed"
        analysis["summary"] = skipped("no keyframe could be captioned")
    elif not router.available("generation"):
        analysis["summary"] = skipped("no generation model is configured")
    else:
        summary = _summary(router, described, steps)
        cost += summary.pop("costUsd", 0.0)
        analysis["summary"] = summary
    analysis["costUsd"] = round(cost, 8)
    return analysis


def _caption(router: RouterClient, frame: Frame, steps: Steps | None = None, name: str = "caption") -> dict[str, Any]:
    from courier.ai.request import ChatRequest, image_data_url

    request = ChatRequest.build("vision", prompt=CAPTION_PROMPT, images=[image_data_url(frame.jpeg)], max_tokens=120)
    return {"time": frame.time, **_ask(router, request, "caption", steps, name)}


def _summary(router: RouterClient, captions: list[dict[str, Any]], steps: Steps | None) -> dict[str, Any]:
    from courier.ai.request import ChatRequest

    listing = "\n".join(f"{c['time']:.1f}s: {c['caption']}" for c in captions)
    request = ChatRequest.build("generation", prompt=SUMMARY_PROMPT.format(captions=listing), max_tokens=300)
    if steps is not None and not router.offloads("generation"):
        return steps.run("summary", _ask, router, request, "text")  # type: ignore[no-any-return]
    return _ask(router, request, "text", steps, "summary")


def _ask(router: RouterClient, request: ChatRequest, field: str, steps: Steps | None = None, name: str = "") -> dict[str, Any]:
    """The answer's text, or why there is none (a failing model is reported, not raised)."""
    from courier.jobs.steps import StepsMisused

    try:
        if steps is not None and router.offloads(request.type):
            result = router.send_by_steps(request, steps, name=name)
        else:
            result = router.send(request, deadline_seconds=CALL_DEADLINE_SECONDS)
    except StepsMisused:
        raise
    except CourierError as error:
        return {"error": {"code": error.code, "message": error.message}}
    return {field: result["output"], "deployment": result["deployment"], "costUsd": result["costUsd"]}
