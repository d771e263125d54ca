"""Test videos with known cuts, encoded with PyAV's libx264 (no ffmpeg binary needed).

Each shot is its own moving scene (a drifting gradient, a moving box and fine noise,
so that motion never looks like a cut); optional white flashes inside shots are
false-positive bait.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

PALETTES = [
    ((200, 40, 40), (40, 40, 200)), ((30, 160, 60), (230, 220, 40)), ((20, 20, 20), (240, 240, 240)),
    ((120, 0, 160), (0, 200, 200)), ((250, 130, 0), (0, 60, 120)), ((90, 90, 90), (170, 40, 120)),
    ((10, 100, 10), (200, 100, 200)), ((160, 160, 40), (40, 40, 40)),
]


@dataclass
class Clip:
    path: Path
    fps: int
    width: int
    height: int
    cuts: list[float]  # seconds: the first frame of each new shot
    flashes: list[float] = field(default_factory=list)
    duration: float = 0.0


def _moving_gradient(a: np.ndarray, b: np.ndarray, xs: np.ndarray, ys: np.ndarray, t: float, shot: int,
                     rng: np.random.Generator) -> np.ndarray:
    """One frame of a shot: a drifting two-colour gradient, a moving box, sensor noise."""
    height, width = xs.shape
    ramp = ((xs / width + ys / height) / 2 + 0.15 * np.sin(t * 2.0)) % 1.0
    image = a * (1 - ramp[..., None]) + b * ramp[..., None]
    bx = int((0.1 + 0.6 * ((t * 0.3 + shot * 0.17) % 1.0)) * width)
    by = int((0.2 + 0.5 * ((t * 0.2 + shot * 0.31) % 1.0)) * height)
    image[by:by + height // 6, bx:bx + width // 5] = b[::-1]
    image += rng.normal(0, 6, image.shape[:2])[..., None]
    return image


def _add_tone(container: Any, audio_stream: Any, *, seconds: float) -> None:
    """A 440 Hz tone as long as the video."""
    samples = int(44100 * seconds)
    tone = (0.1 * np.sin(np.arange(samples) * 2 * np.pi * 440 / 44100)).astype(np.float32)[None, :]
    for start in range(0, samples, 1024):
        chunk = av.AudioFrame.from_ndarray(tone[:, start:start + 1024], format="fltp", layout="mono")
        chunk.sample_rate = 44100
        chunk.pts = start
        for packet in audio_stream.encode(chunk):
            container.mux(packet)
    for packet in audio_stream.encode():
        container.mux(packet)


def make_clip(
    path: Path, *, shots: list[float], fps: int = 30, width: int = 320, height: int = 568,
    flashes: list[float] = (), audio: bool = False, gop: int | None = None, seed: int = 7,
    preset: str = "ultrafast", fades: dict[int, float] | None = None,
) -> Clip:
    """`shots`: the length of each shot in seconds; `flashes`: times of 2-frame white flashes;
    `fades`: shot index → seconds over which the shot before fades out to black and this
    one fades in from it (a fade through black, not a hard cut).

    Encoding is the slow part (x264 medium: 20 s for one clip), and `make test` runs the
    video tests on two Pythons at once: a clip is kept in a cache keyed by its arguments and
    this file's code, so the second run copies what the first encoded."""
    arguments = {"shots": shots, "fps": fps, "width": width, "height": height, "flashes": list(flashes), "audio": audio,
                 "gop": gop, "seed": seed, "preset": preset, "fades": sorted((fades or {}).items())}
    key = hashlib.sha256((json.dumps(arguments) + Path(__file__).read_text()).encode()).hexdigest()[:24]
    cached = CLIP_CACHE / f"{key}.mp4"
    if cached.exists():
        shutil.copyfile(cached, path)
        return Clip(path, fps, width, height, **json.loads(cached.with_suffix(".json").read_text()))
    clip = _encode(path, shots=shots, fps=fps, width=width, height=height, flashes=flashes, audio=audio, gop=gop, seed=seed,
                   preset=preset, fades=fades)
    CLIP_CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=CLIP_CACHE, delete=False) as staging:  # whole or absent, whoever writes first
        shutil.copyfile(path, staging.name)
    cached.with_suffix(".json").write_text(json.dumps({"cuts": clip.cuts, "flashes": clip.flashes, "duration": clip.duration}))
    os.replace(staging.name, cached)
    return clip


#: Outside the repository, so a fresh clone still starts empty of test data of its own.
CLIP_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "courier" / "test-clips"


def _encode(
    path: Path, *, shots: list[float], fps: int, width: int, height: int, flashes: list[float] | tuple[float, ...],
    audio: bool, gop: int | None, seed: int, preset: str, fades: dict[int, float] | None,
) -> Clip:
    fades = fades or {}
    rng = np.random.default_rng(seed)
    container = av.open(str(path), mode="w")
    stream = container.add_stream("libx264", rate=fps)
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    options = {"preset": preset, "crf": "23"}
    if gop:
        options.update({"g": str(gop), "keyint_min": str(gop), "sc_threshold": "0"})
    stream.options = options
    audio_stream = container.add_stream("aac", rate=44100) if audio else None
    flash_frames = {round(t * fps) + k for t in flashes for k in (0, 1)}
    cuts, frame_index = [], 0
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    for shot, seconds in enumerate(shots):
        if shot and shot not in fades:
            cuts.append(frame_index / fps)
        a, b = (np.array(c, dtype=np.float32) for c in PALETTES[shot % len(PALETTES)])
        for i in range(round(seconds * fps)):
            image = _moving_gradient(a, b, xs, ys, i / fps, shot, rng)
            if frame_index in flash_frames:
                image = np.full_like(image, 250.0)
            if shot in fades:  # fading in from black
                image *= min(1.0, i / (fades[shot] * fps))
            if shot + 1 in fades:  # fading out to black
                image *= min(1.0, (round(seconds * fps) - 1 - i) / (fades[shot + 1] * fps))
            frame = av.VideoFrame.from_ndarray(np.clip(image, 0, 255).astype(np.uint8), format="rgb24")
            frame.pts = frame_index
            frame.time_base = Fraction(1, fps)
            for packet in stream.encode(frame):
                container.mux(packet)
            frame_index += 1
    for packet in stream.encode():
        container.mux(packet)
    if audio_stream is not None:
        _add_tone(container, audio_stream, seconds=frame_index / fps)
    container.close()
    return Clip(path, fps, width, height, cuts, list(flashes), frame_index / fps)
