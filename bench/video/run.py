"""Video benchmark: `courier video analyze FILE --json` (process start to JSON, keyframe
JPEGs written) against PySceneDetect's ContentDetector doing cut detection only, side by
side in one run, on generated videos with known cuts (ffmpeg lavfi sources from the
imageio-ffmpeg wheel; x264 defaults and a fixed 2 s GOP).

The clips are drawn from seeds (bench/video/world.py): varied kinds and shot lengths, cuts
between shots of the same kind, pans, film grain, brightness flashes that are not cuts. The
clips the detector was developed on (hard cuts, look-alike neighbours, white flashes) run
with --tuned, and are reported apart: a figure from them says less.

    python -m bench.video.run [--tuned] [--long]      # --long adds the 180 s tuned videos

Each run is its own process, measured from its start to its exit (wall, CPU seconds and
peak memory from the kernel's accounting of that child); three runs, interleaved, and
the tables give each method's median. Inner times (the work without the process's start)
are reported beside. Writes bench/results/video.json and bench/results/video.md.
"""

from __future__ import annotations

import argparse
import compileall
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.video.world import WorldSpec, draw
from devstack.sample_video import SOURCES, render

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".build" / "bench-videos"
RESULTS = ROOT / "bench" / "results"
TOLERANCE = 0.5
FPS = 30
REPEATS = 3
COURIER = Path(sys.executable).parent / "courier"

#: Short-form pacing: 0.5-3 s shots (whole frames at 30 fps), a fixed pseudo-random order.
SHORT_FORM = [0.6, 1.4, 0.5, 2.2, 0.9, 3.0, 1.1, 0.7, 1.8, 2.6, 0.8, 1.3, 2.0, 0.5, 1.6, 2.4, 1.0, 0.6]
#: Social-video pacing of the earlier benchmark: 1-6 s shots.
SOCIAL = [2.5, 1.2, 4.0, 1.8, 3.2, 5.5, 1.0, 2.2, 3.8, 1.5, 6.0, 2.8]
#: Look-alikes next to each other: the same test card mirrored and recoloured, two cellular
#: automata, two gradient fields: cuts a colour histogram barely sees.
LOOK_ALIKE = [
    "testsrc2=size={w}x{h}:rate={fps}",
    "testsrc2=size={w}x{h}:rate={fps},hflip,hue=h=40",
    "cellauto=size={w}x{h}:rate={fps}:rule=30:random_seed=5",
    "cellauto=size={w}x{h}:rate={fps}:rule=110:random_seed=3",
    "gradients=size={w}x{h}:rate={fps}:speed=0.05:n=5:c0=0x204080:c1=0xd09040:c2=0x40a070:c3=0xa04070:c4=0xe0e0d0:x0=0:y0=0:x1={w}:y1={h}:seed=1",
    "gradients=size={w}x{h}:rate={fps}:speed=0.08:n=4:c0=0x305090:c1=0xc08050:c2=0x50907a:c3=0x904a60:x0={w}:y0=0:x1=0:y1={h}:seed=2",
    *SOURCES[1:2], *SOURCES[4:],
]


@dataclass(frozen=True)
class VideoSpec:
    name: str
    width: int
    height: int
    seconds: int
    fixed_gop: bool
    pattern: tuple[float, ...] = tuple(SHORT_FORM)
    sources: tuple[str, ...] = field(default=tuple(LOOK_ALIKE))

    def shots(self) -> list[float]:
        lengths: list[float] = []
        while sum(lengths) < self.seconds - 1e-6:
            lengths.append(round(min(self.pattern[len(lengths) % len(self.pattern)], self.seconds - sum(lengths)), 3))
        return lengths

    def flashes(self) -> list[float]:
        """Mid-shot white flashes (3 frames) in every other shot of 1.5 s or more: bait."""
        times, start = [], 0.0
        for n, length in enumerate(self.shots()):
            if length >= 1.5 and n % 2 == 0:
                times.append(round(start + length / 2, 3))
            start += length
        return times


def short_form(width: int, height: int, seconds: int, fixed_gop: bool) -> VideoSpec:
    shape = "portrait" if height > width else "landscape"
    return VideoSpec(f"short-{shape}-{width}x{height}-{seconds}s-{'gop2s' if fixed_gop else 'x264'}", width, height, seconds, fixed_gop)


SPECS = [
    *(short_form(w, h, 30, gop) for w, h in ((720, 1280), (1080, 1920)) for gop in (False, True)),
    VideoSpec("portrait-1080x1920-60s", 1080, 1920, 60, False, tuple(SOCIAL), tuple(SOURCES)),
    VideoSpec("landscape-720p-60s-fixed-gop", 1280, 720, 60, True, tuple(SOCIAL), tuple(SOURCES)),
]
LONG_SPECS = [
    *(short_form(w, h, 180, gop) for w, h in ((720, 1280), (1080, 1920)) for gop in (False, True)),
    VideoSpec("portrait-1080x1920-180s", 1080, 1920, 180, False, tuple(SOCIAL), tuple(SOURCES)),
]


WORLD_SPECS = [
    *(WorldSpec(f"world-{w}x{h}-30s-{'gop2s' if gop else 'x264'}-seed{seed}", w, h, 30, gop, seed)
      for seed in (1, 2, 3) for (w, h, gop) in ((720, 1280, False), (1080, 1920, True))),
    WorldSpec("world-720x1280-20s-dense-gop2s-seed4", 720, 1280, 20, True, 4, shortest=0.5, longest=1.2),
    WorldSpec("world-1080x1920-60s-x264-seed5", 1080, 1920, 60, False, 5),
]


def generate_world(spec: WorldSpec) -> tuple[Path, list[float], dict[str, Any]]:
    drawn = draw(spec, FPS)
    key = hashlib.sha256(json.dumps([asdict(spec), asdict(drawn)]).encode()).hexdigest()[:12]
    path = CACHE / f"{spec.name}-{key}.mp4"
    cuts = [round(sum(drawn.shots[:i]), 4) for i in range(1, len(drawn.shots))]
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        render(path, drawn.shots, width=spec.width, height=spec.height, fps=FPS, flashes=drawn.flashes,
               gop=2 * FPS if spec.fixed_gop else None, sources=drawn.sources, grain=drawn.grain, flash="eq=brightness=0.35")
    features = {"flashes": len(drawn.flashes), "same_kind_cuts": drawn.same_kind_cuts, "panned_shots": drawn.panned,
                "shots": len(drawn.shots), "grain": drawn.grain}
    return path, cuts, features


def generate(spec: VideoSpec) -> tuple[Path, list[float]]:
    shots = spec.shots()
    key = hashlib.sha256(json.dumps(asdict(spec)).encode()).hexdigest()[:12]
    path = CACHE / f"{spec.name}-{key}.mp4"
    cuts = [round(sum(shots[:i]), 3) for i in range(1, len(shots))]
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        render(path, shots, width=spec.width, height=spec.height, fps=FPS, flashes=spec.flashes(),
               gop=2 * FPS if spec.fixed_gop else None, sources=list(spec.sources))
    return path, cuts


def timed(command: list[str]) -> dict[str, Any]:
    """One process from its start to its exit: wall, and CPU seconds and peak memory from
    its own rusage (wait4), not a sum or maximum over every child so far."""
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, stdout=stdout, stderr=stderr, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        if process.returncode != 0:
            raise RuntimeError(f"{command} exited {process.returncode}: {stderr.read()[-2000:]}")
        return {"wall": round(wall, 3), "cpu": round(usage.ru_utime + usage.ru_stime, 2),
                "peak_mb": round(usage.ru_maxrss / 1024, 1), "stdout": stdout.read()}


def measure(method: str, path: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as out:
        if method == "courier":
            run = timed([str(COURIER), "video", "analyze", str(path), "--json", "--out", out])
            result = json.loads(run.pop("stdout"))
            found = {"cuts": [c["time"] for c in result["cuts"]], "inner": result["processing"]["seconds"],
                     "keyframes": len(list(Path(out).glob("*.jpg"))), "frames_decoded": result["processing"]["framesDecoded"]}
        else:
            run = timed([sys.executable, "-m", "bench.video.method", str(path)])
            found = json.loads(run.pop("stdout").strip().splitlines()[-1])
    return {**found, **run}


METHODS = ["courier", "pyscenedetect"]
LABELS = {
    "courier": "Courier: `courier video analyze FILE --json` (cuts, keyframes, metrics)",
    "pyscenedetect": "PySceneDetect ContentDetector, cut detection only (defaults)",
}


def measure_all(path: Path) -> dict[str, dict[str, Any]]:
    """Every method REPEATS times, interleaved (drift hits all alike); the median run of each."""
    runs: dict[str, list[dict[str, Any]]] = {method: [] for method in METHODS}
    for _ in range(REPEATS):
        for method in METHODS:
            runs[method].append(measure(method, path))
    return {method: sorted(found, key=lambda r: r["wall"])[len(found) // 2] for method, found in runs.items()}


def score(found: list[float], truth: list[float]) -> dict[str, float]:
    unmatched = list(truth)
    hits = 0
    for moment in found:
        near = [t for t in unmatched if abs(t - moment) <= TOLERANCE]
        if near:
            unmatched.remove(min(near, key=lambda t: abs(t - moment)))
            hits += 1
    precision = hits / len(found) if found else 1.0
    recall = hits / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3)}


def layer_size() -> dict[str, float]:
    """The video worker's own dependency layer (PyAV, numpy), unzipped and zipped."""
    from infra.assets import build_dependency_layer

    folder = build_dependency_layer("video-deps")
    files = [p for p in folder.rglob("*") if p.is_file()]
    with tempfile.TemporaryFile() as archive:
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
            for p in files:
                bundle.write(p, p.relative_to(folder))
        zipped = archive.tell()
    return {"unzipped_mb": round(sum(p.stat().st_size for p in files) / 2**20, 1), "zipped_mb": round(zipped / 2**20, 1)}


def index_seconds(path: Path) -> float:
    """Reading every packet of a video (what a parent does before it splits it)."""
    from courier.video.packets import index

    started = time.perf_counter()
    index(str(path))
    return time.perf_counter() - started


def fan_out_estimate(report: dict[str, Any]) -> dict[str, Any]:
    """A 60-minute 1080x1920 video's wall time in N parts, from this run's measured figures:
    the parent reads its packets (the slowest measured rate of the 1080x1920 videos) and
    splits it, the parts run side by side, each at the 1080x1920 videos' slowest measured
    end-to-end rate (seconds of work per second of video). The downloads (each part reads
    the file from S3) and Lambda's start are not measured here and not included."""
    tall = [v for v in report["videos"] if v["video"]["height"] == 1920]
    per_second = max(v["results"]["courier"]["wall"] / v["video"]["seconds"] for v in tall)
    index_per_second = max(v["index_seconds"] / v["video"]["seconds"] for v in tall)
    seconds = 3600
    rows = []
    for parts in (1, 4, 12, 24):
        index_s = seconds * index_per_second
        part_s = seconds / parts * per_second
        rows.append({"parts": parts, "part_seconds": seconds / parts, "index_s": round(index_s, 1),
                     "part_s": round(part_s, 1), "total_s": round(index_s + part_s, 1)})
    return {"video_seconds": seconds, "work_per_video_second": round(per_second, 4),
            "index_per_video_second": round(index_per_second, 5), "rows": rows}


def compiled() -> None:
    """Courier's bytecode written, as `pip install` writes it (and PySceneDetect's is): an
    editable checkout under PYTHONDONTWRITEBYTECODE would compile every module at every start."""
    for folder in (ROOT / "layers" / "common" / "python" / "courier", ROOT / "courier_cli"):
        compileall.compile_dir(str(folder), quiet=1)


def clips(tuned: bool, long: bool) -> list[tuple[str, dict[str, Any], Path, list[float], dict[str, Any]]]:
    """(set, spec, file, true cuts, what makes it hard) for every clip of this run."""
    found = []
    for world in WORLD_SPECS:
        path, truth, features = generate_world(world)
        found.append(("drawn", {**asdict(world)}, path, truth, features))
    if tuned:
        for spec in SPECS + (LONG_SPECS if long else []):
            path, truth = generate(spec)
            found.append(("tuned", {**asdict(spec)}, path, truth, {"flashes": len(spec.flashes()), "shots": len(spec.shots())}))
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tuned", action="store_true", help="also the clips the detector was developed on")
    parser.add_argument("--long", action="store_true", help="with --tuned: also its 180 s videos")
    args = parser.parse_args()
    compiled()
    report: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "tolerance_seconds": TOLERANCE, "repeats": REPEATS, "videos": [],
    }
    for group, spec, path, truth, features in clips(args.tuned, args.long):
        rows = {}
        for method, run in measure_all(path).items():
            rows[method] = {**score(run.pop("cuts"), truth), **run, "x_realtime": round(spec["seconds"] / run["wall"], 2)}
            print(f"{spec['name']:<44} {method:<14} {json.dumps(rows[method])}", flush=True)
        ours, peer = rows["courier"], rows["pyscenedetect"]
        report["videos"].append({
            "set": group, "video": spec, "cuts": len(truth), "features": features, "results": rows,
            "speedup": round(peer["wall"] / ours["wall"], 2), "inner_speedup": round(peer["inner"] / ours["inner"], 2),
            "cpu_ratio": round(peer["cpu"] / ours["cpu"], 2), "f1_at_least_peer": ours["f1"] >= peer["f1"],
            "index_seconds": round(index_seconds(path), 4),
        })
    report["layer"] = layer_size()
    report["fan_out"] = fan_out_estimate(report)
    write(report)


def write(report: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "video.json").write_text(json.dumps(report, indent=2) + "\n")
    videos = report["videos"]
    drawn = [v for v in videos if v["set"] == "drawn"]
    lines = [
        "# Video benchmark\n",
        f"{report['machine']}; a cut counts within ±{TOLERANCE} s; each run a process of its own, start to exit; "
        f"median of {REPEATS} interleaved runs; both with their bytecode compiled, as installed. "
        "Courier: `courier video analyze FILE --json` (cuts, keyframe JPEGs, metrics); "
        "PySceneDetect: `detect(FILE, ContentDetector())`, cut detection only.\n",
        "Clips drawn from seeds (bench/video/world.py): 8 kinds of synthetic shot, shots of 0.6-3 s (0.5-1.2 s in the "
        "dense one), about 15% of cuts between two shots of the same kind, a pan on about half the shots, film grain "
        "throughout, 3-frame brightness flashes inside a quarter of the shots of 1 s or more.\n",
        f"On the drawn clips: speed-up (PySceneDetect's wall time / Courier's) {min(v['speedup'] for v in drawn)}× to "
        f"{max(v['speedup'] for v in drawn)}×; Courier's F1 {min(v['results']['courier']['f1'] for v in drawn)} to "
        f"{max(v['results']['courier']['f1'] for v in drawn)}, PySceneDetect's {min(v['results']['pyscenedetect']['f1'] for v in drawn)} to "
        f"{max(v['results']['pyscenedetect']['f1'] for v in drawn)}; Courier's at least PySceneDetect's on every clip: "
        f"{all(v['f1_at_least_peer'] for v in videos)}. Video worker's dependency layer: "
        f"{report['layer']['unzipped_mb']} MB unzipped, {report['layer']['zipped_mb']} MB zipped.\n",
    ]
    for group, title in (("drawn", "Drawn clips"), ("tuned", "The clips the detector was developed on (--tuned)")):
        shown = [v for v in videos if v["set"] == group]
        if not shown:
            continue
        lines += [
            f"## {title}\n",
            "| video | cuts | same-kind cuts / panned shots / flashes | Courier F1 (P / R) | PySceneDetect F1 (P / R) | Courier wall s | "
            "PySceneDetect wall s | speed-up | inner s (Courier / PySceneDetect) | CPU s (Courier / PySceneDetect) | peak MB (Courier / PySceneDetect) |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for video in shown:
            ours, peer, f = video["results"]["courier"], video["results"]["pyscenedetect"], video["features"]
            hard = f"{f.get('same_kind_cuts', '-')} / {f.get('panned_shots', '-')} / {f['flashes']}"
            lines.append(
                f"| {video['video']['name']} | {video['cuts']} | {hard} | {ours['f1']} ({ours['precision']} / {ours['recall']}) | "
                f"{peer['f1']} ({peer['precision']} / {peer['recall']}) | {ours['wall']} | {peer['wall']} | **{video['speedup']}×** | "
                f"{ours['inner']} / {peer['inner']} | {ours['cpu']} / {peer['cpu']} | {ours['peak_mb']} / {peer['peak_mb']} |"
            )
        lines.append("")
    estimate = report["fan_out"]
    lines += [
        "\n## A 60-minute 1080x1920 video in parts\n",
        f"From this run: {estimate['work_per_video_second']} s of work per second of 1080x1920 video (the slowest measured, "
        f"end to end), {estimate['index_per_video_second']} s to read the packets of one. Downloads and Lambda starts not included.\n",
        "| parts | seconds each | parent's packet read s | a part s | wall s |", "|---|---|---|---|---|",
        *(f"| {r['parts']} | {r['part_seconds']:.0f} | {r['index_s']} | {r['part_s']} | **{r['total_s']}** |" for r in estimate["rows"]),
    ]
    (RESULTS / "video.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
