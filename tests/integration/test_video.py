"""The video pipeline on generated clips with known cuts, and its inputs' failure modes."""

from __future__ import annotations

import json
from pathlib import Path

import av
import pytest

from courier.errors import InvalidInput
from courier.video import probe as probe_module
from courier.video.pipeline import Options, analyze
from courier_cli.main import main
from devstack.sample_video import render
from tests.support.videos import Clip, make_clip


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Clip]:
    folder = tmp_path_factory.mktemp("clips")
    return {
        # x264 medium (B-frames, scene-cut I-frames), white flashes as bait, audio.
        "social": make_clip(folder / "social.mp4", shots=[2.0, 3.0, 1.5, 4.0, 2.5], flashes=[1.0, 6.0], preset="medium", audio=True),
        # A fixed GOP (no scene-cut I-frames): cuts fall on P- and B-frames.
        "fixed_gop": make_clip(folder / "gop.mp4", shots=[1.7, 2.3, 12.0], gop=30, preset="medium"),
        "one_shot": make_clip(folder / "one.mp4", shots=[3.0]),
    }


def run(clip: Clip, **options: object) -> tuple[dict, dict[str, bytes]]:
    saved: dict[str, bytes] = {}

    def save(name: str, data: bytes) -> str:
        saved[name] = data
        return name

    return analyze(str(clip.path), Options(**options), save).to_dict(), saved  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["social", "fixed_gop", "one_shot"])
def test_cuts_are_frame_accurate_and_flashes_are_not_cuts(clips: dict[str, Clip], name: str) -> None:
    clip = clips[name]
    result, _ = run(clip)
    found = [c["time"] for c in result["cuts"]]
    assert len(found) == len(clip.cuts), (found, clip.cuts)
    for got, want in zip(found, clip.cuts, strict=True):
        assert abs(got - want) <= 1 / clip.fps + 1e-3, (found, clip.cuts)  # within one frame
    assert [c["frame"] for c in result["cuts"]] == [round(t * clip.fps) for t in clip.cuts]


def test_cuts_between_look_alike_textures_are_found_by_the_encoders_surprise(tmp_path: Path) -> None:
    """Two cellular automata (rule 30, rule 110): fine moving noise whose thumbnails change
    as much inside a shot as across the cut. The encoder cannot predict the new texture's
    first frame (a hundred times its neighbours' size); with the colour jump, that is a cut,
    but not where an I-frame is large only because the GOP is fixed."""
    sources = ["cellauto=size={w}x{h}:rate={fps}:rule=30:random_seed=1", "cellauto=size={w}x{h}:rate={fps}:rule=110:random_seed=3"]
    for gop in (None, 15):  # I-frames where scenes change (x264's default); a fixed GOP, whose I-frames say nothing
        path = tmp_path / f"textures-{gop}.mp4"
        truth = render(path, [1.2, 1.7, 1.4, 1.9], width=240, height=426, sources=sources, gop=gop)
        result = analyze(str(path), Options(), lambda name, data: name).to_dict()
        found = [c["time"] for c in result["cuts"]]
        assert len(found) == len(truth) and all(abs(a - b) <= 1 / 30 + 1e-3 for a, b in zip(found, truth, strict=True)), (gop, found, truth)


def test_fades_through_black_are_reported_and_separate_shots_without_being_cuts(tmp_path: Path) -> None:
    # Fades in from black at 0 s; a hard cut at 2 s; fades out (3.9-4.5 s) and in (4.5-5.1 s)
    # through black; a hard cut at 6.5 s.
    clip = make_clip(tmp_path / "fades.mp4", shots=[2.0, 2.5, 2.0, 1.5], fades={0: 0.5, 2: 0.6})
    result = analyze(str(clip.path), Options(), lambda name, data: name).to_dict()
    assert [c["time"] for c in result["cuts"]] == clip.cuts == [2.0, 6.5]
    assert [f["kind"] for f in result["fades"]] == ["in", "out", "in"]
    expected = [(0.0, 0.5), (3.9, 4.5), (4.5, 5.1)]
    for fade, (start, end) in zip(result["fades"], expected, strict=True):
        assert abs(fade["start"] - start) <= 0.1 and abs(fade["end"] - end) <= 0.1, fade
    # Through black is a shot boundary; the opening fade-in is not.
    assert [round(s["start"], 1) for s in result["shots"]] == [0.0, 2.0, 4.5, 6.5]
    assert result["metrics"]["cutsPerMinute"] == round(2 / (result["video"]["duration"] / 60), 2)


def test_flashes_and_hard_cuts_are_not_fades(clips: dict[str, Clip]) -> None:
    result = analyze(str(clips["social"].path), Options(), lambda name, data: name).to_dict()
    assert result["fades"] == []


def test_probe(clips: dict[str, Clip]) -> None:
    result, _ = run(clips["social"])
    video = result["video"]
    assert (video["width"], video["height"], video["codec"], video["rotation"]) == (320, 568, "h264", 0)
    assert video["fps"] == 30 and video["hasAudio"] is True
    assert video["duration"] == pytest.approx(13.0, abs=0.1)
    assert run(clips["one_shot"])[0]["video"]["hasAudio"] is False


def test_keyframes_are_jpegs_one_per_shot_plus_long_shot_samples(clips: dict[str, Clip]) -> None:
    clip = clips["fixed_gop"]
    result, saved = run(clip, sample_every_seconds=4.0)
    shots = result["shots"]
    assert [k["reason"] for k in result["keyframes"]].count("shot") == len(shots) == 3
    long_shot = [k for k in result["keyframes"] if k["shot"] == 2]  # 12 s: its representative and samples
    assert {k["reason"] for k in long_shot} == {"shot", "sample"}
    assert all(b["time"] - a["time"] >= 2.0 for a, b in zip(long_shot, long_shot[1:], strict=False))
    assert all(k["shot"] != 2 or k["reason"] == "shot" for k in run(clip, sample_every_seconds=60.0)[0]["keyframes"])
    for keyframe in result["keyframes"]:
        shot = shots[keyframe["shot"]]
        assert shot["start"] <= keyframe["time"] < shot["end"]
        data = saved[keyframe["image"]]
        assert data[:2] == b"\xff\xd8"
        with av.open(__import__("io").BytesIO(data)) as image:
            frame = next(image.decode(video=0))
            assert max(frame.width, frame.height) <= 720
        metrics = keyframe["metrics"]
        assert 0 <= metrics["brightness"] <= 1 and metrics["contrast"] > 0 and metrics["sharpness"] > 0
        assert metrics["colorfulness"] >= 0 and metrics["motion"] >= 0
    capped, _ = run(clip, max_keyframes=2)
    assert len(capped["keyframes"]) == 2


def test_video_metrics(clips: dict[str, Clip]) -> None:
    result, _ = run(clips["social"])
    metrics = result["metrics"]
    assert metrics["shots"] == 5 and metrics["firstCut"] == pytest.approx(2.0, abs=0.04)
    assert metrics["cutsPerMinute"] == pytest.approx(4 / (13.0 / 60), rel=0.02)
    assert metrics["shotLength"]["min"] == pytest.approx(1.5, abs=0.05)
    assert metrics["shotLength"]["max"] == pytest.approx(4.0, abs=0.05)
    assert 0 <= metrics["hookScore"] <= 100
    calm, _ = run(clips["one_shot"])
    assert calm["metrics"]["hookScore"] < metrics["hookScore"] + 40  # no cut in the opening: fewer points
    assert calm["metrics"]["firstCut"] is None and calm["metrics"]["shots"] == 1


@pytest.mark.parametrize(
    "content, code",
    [(b"this is not a video at all" * 100, "not_a_video"), (b"", "not_a_video")],
)
def test_bad_files_are_non_retryable(tmp_path: Path, content: bytes, code: str) -> None:
    path = tmp_path / "bad.mp4"
    path.write_bytes(content)
    with pytest.raises(InvalidInput) as caught:
        analyze(str(path), Options(), lambda n, d: n)
    assert caught.value.code == code and caught.value.retryable is False


def test_truncated_and_audio_only_files(tmp_path: Path, clips: dict[str, Clip]) -> None:
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(clips["social"].path.read_bytes()[:4000])
    with pytest.raises(InvalidInput) as caught:
        analyze(str(truncated), Options(), lambda n, d: n)
    assert caught.value.code in ("corrupt_video", "not_a_video")
    audio_only = tmp_path / "audio.m4a"
    with av.open(str(clips["social"].path)) as source, av.open(str(audio_only), "w") as target:
        out = target.add_stream_from_template(source.streams.audio[0])
        for packet in source.demux(source.streams.audio[0]):
            if packet.dts is not None:
                packet.stream = out
                target.mux(packet)
    with pytest.raises(InvalidInput) as caught:
        analyze(str(audio_only), Options(), lambda n, d: n)
    assert caught.value.code == "no_video_stream"


def test_too_long(monkeypatch: pytest.MonkeyPatch, clips: dict[str, Clip]) -> None:
    monkeypatch.setattr(probe_module, "MAX_DURATION_SECONDS", 5)
    with pytest.raises(InvalidInput) as caught:
        analyze(str(clips["social"].path), Options(), lambda n, d: n)
    assert caught.value.code == "video_too_long"


def test_command_line(tmp_path: Path, clips: dict[str, Clip], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "frames"
    assert main(["video", "analyze", str(clips["social"].path), "--json", "--out", str(out)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert len(result["cuts"]) == 4
    assert sorted(p.name for p in out.iterdir()) == sorted(Path(k["image"]).name for k in result["keyframes"])
    assert main(["video", "analyze", str(clips["social"].path), "--out", str(out)]) == 0
    assert "cuts: 2.00s, 5.00s, 6.50s, 10.50s" in capsys.readouterr().out
    # Without --out nothing is written where the user stands; the summary says how to keep them.
    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    assert main(["video", "analyze", str(clips["social"].path)]) == 0
    assert "keyframes (--out DIR keeps their images)" in capsys.readouterr().out and not list(Path.cwd().iterdir())
    assert main(["video", "analyze", str(tmp_path / "missing.mp4")]) == 2
    (tmp_path / "junk.mp4").write_text("junk")
    assert main(["video", "analyze", str(tmp_path / "junk.mp4"), "--out", str(out)]) == 1
    assert "not_a_video" in capsys.readouterr().err
