"""Test and demo videos with known cuts, made by the ffmpeg inside the imageio-ffmpeg
wheel from lavfi sources: nothing is downloaded. Moving sources, so motion inside a
shot never looks like a cut; optional white flashes as false-positive bait."""

from __future__ import annotations

import subprocess
from pathlib import Path

SOURCES = [
    "testsrc2=size={w}x{h}:rate={fps}",
    "mandelbrot=size={w}x{h}:rate={fps}",
    "cellauto=size={w}x{h}:rate={fps}:rule=30",
    "gradients=size={w}x{h}:rate={fps}:speed=0.05:n=5",
    "life=size={w}x{h}:rate={fps}:mold=10:ratio=0.2:death_color=#203040:life_color=#e0c040",
    "smptehdbars=size={w}x{h}:rate={fps},hue=H=2*PI*t/4",
]


def render(
    path: Path, shots: list[float], *, width: int, height: int, fps: int = 30, flashes: tuple[float, ...] = (), gop: int | None = None,
) -> list[float]:
    """Writes an H.264 MP4 of `shots` (seconds each) and returns its cut times."""
    import imageio_ffmpeg  # type: ignore[import-untyped]  # ships no types

    inputs, labels = [], []
    for n, length in enumerate(shots):
        source = SOURCES[n % len(SOURCES)].format(w=width, h=height, fps=fps)
        inputs += ["-f", "lavfi", "-t", f"{length:.3f}", "-i", source]
        labels.append(f"[{n}:v]format=yuv420p,setsar=1[v{n}]")
    lit = "+".join(f"between(t,{t:.3f},{t + 3 / fps:.3f})" for t in flashes) or "0"
    graph = ";".join(labels) + ";" + "".join(f"[v{n}]" for n in range(len(shots)))
    graph += f"concat=n={len(shots)}:v=1:a=0,drawbox=color=white:t=fill:enable='{lit}'[out]"
    encoder = ["-c:v", "libx264", "-pix_fmt", "yuv420p"]
    if gop:
        encoder += ["-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0"]
    partial = path.with_name(path.name + ".partial.mp4")
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", *inputs, "-filter_complex", graph, "-map", "[out]", *encoder, str(partial)]
    subprocess.run(command, check=True)
    partial.rename(path)
    return [round(sum(shots[:i]), 3) for i in range(1, len(shots))]
