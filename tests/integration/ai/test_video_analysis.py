"""The video processor's analysis through the router, against the fake model server."""

from __future__ import annotations

from collections.abc import Callable

from courier.ai.catalog import load_catalog
from courier.ai.client import RouterClient
from courier.ai.router import Router
from courier.video.analysis import Frame, analyze_frames
from devstack.model_server import ModelServer, Step

FRAMES = [Frame(0.5, b"\xff\xd8first"), Frame(2.0, b"\xff\xd8second"), Frame(4.25, b"\xff\xd8third")]


def test_a_caption_per_keyframe_one_image_each_then_a_summary(router: Router, upstream: ModelServer) -> None:
    analysis = analyze_frames(FRAMES, RouterClient(router=router), requested=None)
    assert analysis["status"] == "done"
    assert [c["time"] for c in analysis["captions"]] == [0.5, 2.0, 4.25]
    assert all(c["deployment"] == "Phi-4-multimodal-instruct" and "saw 1 image" in c["caption"] for c in analysis["captions"])
    vision = upstream.calls("Phi-4-multimodal-instruct")
    assert len(vision) == 3
    assert all(sum(p["type"] == "image_url" for p in call.body["messages"][0]["content"]) == 1 for call in vision)
    (summary,) = upstream.calls("DeepSeek-V3-0324")
    prompt = summary.body["messages"][0]["content"]
    assert "0.5s: [Phi-4-multimodal-instruct]" in prompt and "4.2s:" in prompt
    assert analysis["summary"]["deployment"] == "DeepSeek-V3-0324" and analysis["summary"]["text"]
    assert analysis["costUsd"] > 0


def test_a_failing_frame_is_reported_and_the_rest_delivered(make_router: Callable[..., Router], upstream: ModelServer) -> None:
    router = make_router(retry={"attemptsPerDeployment": 1})
    upstream.script("Phi-4-multimodal-instruct", Step(400, body={"error": {"code": "content_filter", "message": "filtered"}}))
    analysis = analyze_frames(FRAMES[:1], RouterClient(router=router), requested=True)
    assert analysis["status"] == "failed" and analysis["captions"][0]["error"]["code"] == "content_filtered"
    assert analysis["summary"]["status"] == "skipped"
    upstream.script("Phi-4-multimodal-instruct", Step(500))
    partial = analyze_frames(FRAMES[:2], RouterClient(router=router), requested=True)
    assert partial["status"] == "partial" and sum("caption" in c for c in partial["captions"]) == 1
    assert "text" in partial["summary"]


def test_no_vision_model_or_not_requested_skips_without_a_call(upstream: ModelServer, router: Router) -> None:
    unconfigured = Router(lambda: load_catalog({}))
    assert analyze_frames(FRAMES, RouterClient(router=unconfigured), requested=True) == {
        "status": "skipped", "reason": "no vision model is configured: no deployment of the 'vision' route has an endpoint"}
    assert analyze_frames(FRAMES, RouterClient(router=router), requested=False)["reason"].startswith("not requested")
    assert upstream.calls() == []


def test_without_a_generation_model_the_captions_still_come(make_router: Callable[..., Router], upstream: ModelServer) -> None:
    router = make_router(deployments=[{"name": n, "baseUrl": ""} for n in ("DeepSeek-V3-0324", "Phi-4", "DeepSeek-R1")])
    analysis = analyze_frames(FRAMES[:1], RouterClient(router=router), requested=None)
    assert analysis["status"] == "done" and analysis["summary"] == {"status": "skipped", "reason": "no generation model is configured"}
