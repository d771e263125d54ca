"""Test and demo videos with known cuts, made by the ffmpeg inside the imageio-ffmpeg
wheel from lavfi sources: nothing is downloaded. Moving sources, so motion inside a
shot never looks like a cut; optional white flashes as false-positive bait. The random
sources are seeded: the same call makes the same video, on any machine."""

from __future__ import annotations

import subprocess
from pathlib import Path

SOURCES = [
    "testsrc2=size={w}x{h}:rate={fps}",
    "mandelbrot=size={qw}x{qh}:rate={fps},scale={w}x{h}",
    "cellauto=size={w}x{h}:rate={fps}:rule=30:random_seed=1",
    "gradients=size={w}x{h}:rate={fps}:speed=0.05:n=5:c0=0x3050c0:c1=0xe0a030:c2=0x20a060:c3=0xc03060:c4=0xf0f0e0:x0=0:y0=0:x1={w}:y1={h}:seed=1",
    "life=size={qw}x{qh}:rate={fps}:mold=10:ratio=0.2:seed=1:death_color=#203040:life_color=#e0c040,scale={w}x{h}:flags=neighbor",
    "smptehdbars=size={w}x{h}:rate={fps},hue=H=2*PI*t/4",
]


def render(
    path: Path, shots: list[float], *, width: int, height: int, fps: int = 30, flashes: tuple[float, ...] | list[float] = (),
    gop: int | None = None, sources: list[str] | None = None, keyframes_at_cuts: bool = False,
    grain: int = 0, flash: str = "drawbox=color=white:t=fill", preset: str = "medium",
) -> list[float]:
    """Writes an H.264 MP4 of `shots` (seconds each) and returns its cut times.

    Every shot's source is a filter of one graph, trimmed and concatenated, so only the
    shot being encoded is generated (one lavfi input per shot made ffmpeg run them all at
    once: a 30 s 1080x1920 clip of 15 shots took over nine minutes; this way, 30 s).
    The slow sources (mandelbrot, life) are drawn at a quarter of the size and scaled.
    `gop`: a keyframe every so many frames and nowhere else; `keyframes_at_cuts`: a
    keyframe on every cut and nowhere else (as an editor exports), so that any keyframe
    a long video is split on is a cut. `grain`: film grain's strength over the whole video
    (ffmpeg's temporal noise); `flash`: the filter a flash applies for its 3 frames (a white
    frame, or e.g. `eq=brightness=0.4`); `preset`: x264's (a test that compares two analyses
    of one file needs no slow encode).
    """
    import imageio_ffmpeg  # type: ignore[import-untyped]  # ships no types

    chosen = sources or SOURCES
    chains = []
    for n, length in enumerate(shots):
        source = chosen[n % len(chosen)].format(w=width, h=height, qw=max(16, width // 4), qh=max(16, height // 4), fps=fps)
        chains.append(f"{source},trim=duration={length:.4f},setpts=PTS-STARTPTS,format=yuv420p,setsar=1[v{n}]")
    lit = "+".join(f"between(t,{t:.3f},{t + 3 / fps:.3f})" for t in flashes) or "0"
    graph = ";".join(chains) + ";" + "".join(f"[v{n}]" for n in range(len(shots)))
    graph += f"concat=n={len(shots)}:v=1:a=0,{flash}:enable='{lit}'" + (f",noise=alls={grain}:allf=t" if grain else "") + "[out]"
    encoder = ["-c:v", "libx264", "-preset", preset, "-pix_fmt", "yuv420p"]
    cuts = [round(sum(shots[:i]), 3) for i in range(1, len(shots))]
    if gop:
        encoder += ["-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0"]
    elif keyframes_at_cuts:
        encoder += ["-force_key_frames", ",".join(f"{t:.3f}" for t in cuts) or "0", "-g", "100000", "-sc_threshold", "0"]
    partial = path.with_name(path.name + ".partial.mp4")
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-filter_complex", graph, "-map", "[out]", *encoder, str(partial)]
    subprocess.run(command, check=True)
    partial.rename(path)
    return cuts
