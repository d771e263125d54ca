"""Clips drawn from a seed, harder than the ones a detector was tuned on (issue 30): shots of
varied synthetic kinds and lengths, some cuts between two shots of the same kind (new
parameters, same look), a camera pan on about half the shots, film grain over everything,
and short brightness flashes inside shots that are not cuts.

Nothing here was chosen by looking at a detector's answers: the kinds, the odds and the
ranges are fixed below, and each seed draws its own clip from them.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

#: Odds and ranges, per clip.
SAME_KIND_SHARE = 0.15
PAN_SHARE = 0.5
FLASH_SHARE = 0.25
#: How much larger a panned shot's picture is than the frame the camera sees.
PAN_MARGIN = 1.3

Kind = Callable[[random.Random, int, int, int], str]


def _colour(rng: random.Random) -> str:
    return f"0x{rng.randrange(0x1000000):06x}"


def _card(rng: random.Random, w: int, h: int, fps: int) -> str:
    flip = ",hflip" if rng.random() < 0.5 else ""
    return f"testsrc2=size={w}x{h}:rate={fps}{flip},hue=h={rng.randrange(360)}:s={rng.uniform(0.6, 1.4):.2f}"


def _fractal(rng: random.Random, w: int, h: int, fps: int) -> str:
    x, y = rng.uniform(-1.6, 0.3), rng.uniform(-0.7, 0.7)
    return (f"mandelbrot=size={max(16, w // 4)}x{max(16, h // 4)}:rate={fps}:start_x={x:.4f}:start_y={y:.4f}"
            f":start_scale={rng.uniform(0.5, 3.0):.3f}:end_scale={rng.uniform(0.05, 0.4):.3f},scale={w}x{h}")


def _automaton(rng: random.Random, w: int, h: int, fps: int) -> str:
    rule = rng.choice([18, 30, 45, 73, 90, 105, 110, 150])
    return f"cellauto=size={w}x{h}:rate={fps}:rule={rule}:random_seed={rng.randrange(1, 10**6)},hue=h={rng.randrange(360)}"


def _gradient(rng: random.Random, w: int, h: int, fps: int) -> str:
    colours = ":".join(f"c{n}={_colour(rng)}" for n in range(4))
    return (f"gradients=size={w}x{h}:rate={fps}:speed={rng.uniform(0.02, 0.1):.3f}:n=4:{colours}"
            f":x0={rng.randrange(w)}:y0={rng.randrange(h)}:x1={rng.randrange(w)}:y1={rng.randrange(h)}:seed={rng.randrange(1, 10**6)}")


def _life(rng: random.Random, w: int, h: int, fps: int) -> str:
    return (f"life=size={max(16, w // 4)}x{max(16, h // 4)}:rate={fps}:mold={rng.randrange(5, 30)}:ratio={rng.uniform(0.1, 0.4):.2f}"
            f":seed={rng.randrange(1, 10**6)}:death_color=#{_colour(rng)[2:]}:life_color=#{_colour(rng)[2:]},"
            f"scale={w}x{h}:flags=neighbor")


def _bars(rng: random.Random, w: int, h: int, fps: int) -> str:
    return f"smptehdbars=size={w}x{h}:rate={fps},hue=H=2*PI*t/{rng.uniform(2, 8):.2f}+{rng.uniform(0, 6.28):.2f}"


def _sierpinski(rng: random.Random, w: int, h: int, fps: int) -> str:
    return (f"sierpinski=size={w}x{h}:rate={fps}:seed={rng.randrange(1, 10**6)}:jump={rng.randrange(1, 60)}"
            f":type={rng.choice(['carpet', 'triangle'])},hue=h={rng.randrange(360)}")


def _spectrum(rng: random.Random, w: int, h: int, fps: int) -> str:
    return (f"colorspectrum=size={w}x{h}:rate={fps}:type={rng.choice(['black', 'white', 'all'])},"
            f"hue=h={rng.randrange(360)}:s={rng.uniform(0.5, 1.5):.2f}")


KINDS: dict[str, Kind] = {
    "card": _card, "fractal": _fractal, "automaton": _automaton, "gradient": _gradient, "life": _life,
    "bars": _bars, "sierpinski": _sierpinski, "spectrum": _spectrum,
}


@dataclass(frozen=True)
class WorldSpec:
    """One drawn clip: `seed` draws its shots, their kinds, pans and flashes."""

    name: str
    width: int
    height: int
    seconds: int
    fixed_gop: bool
    seed: int
    shortest: float = 0.6
    longest: float = 3.0


@dataclass(frozen=True)
class Drawn:
    shots: list[float]
    sources: list[str]
    kinds: list[str]
    flashes: list[float]
    grain: int
    same_kind_cuts: int
    panned: int


def draw(spec: WorldSpec, fps: int) -> Drawn:
    """The clip `spec.seed` draws: shot lengths in whole frames, a kind per shot (the kind
    before again with SAME_KIND_SHARE's odds, else another), a pan with PAN_SHARE's, a 2-4
    frame flash inside a shot of 1 s or more with FLASH_SHARE's."""
    rng = random.Random(spec.seed)
    shots: list[float] = []
    while sum(shots) < spec.seconds - 1e-6:
        frames = rng.randint(round(spec.shortest * fps), round(spec.longest * fps))
        shots.append(round(min(frames / fps, spec.seconds - sum(shots)), 4))
    if len(shots) > 1 and shots[-1] < spec.shortest:  # no sliver at the end: it joins the shot before
        shots[-2] = round(shots[-2] + shots.pop(), 4)
    kinds: list[str] = []
    for _ in shots:
        if kinds and rng.random() < SAME_KIND_SHARE:
            kinds.append(kinds[-1])
        else:
            kinds.append(rng.choice([k for k in KINDS if not kinds or k != kinds[-1]]))
    sources, flashes, panned, start = [], [], 0, 0.0
    for kind, length in zip(kinds, shots, strict=True):
        if rng.random() < PAN_SHARE:
            panned += 1
            big_w, big_h = _even(spec.width * PAN_MARGIN), _even(spec.height * PAN_MARGIN)
            sx, sy = rng.choice([-1, 1]), rng.choice([-1, 1])
            x = f"(iw-ow)*({'t' if sx > 0 else f'{length:.3f}-t'})/{length:.3f}"
            y = f"(ih-oh)*0.4*({'t' if sy > 0 else f'{length:.3f}-t'})/{length:.3f}"
            sources.append(f"{KINDS[kind](rng, big_w, big_h, fps)},crop={spec.width}:{spec.height}:x='{x}':y='{y}'")
        else:
            sources.append(KINDS[kind](rng, spec.width, spec.height, fps))
        if length >= 1.0 and rng.random() < FLASH_SHARE:
            flashes.append(round(start + rng.uniform(0.3, length - 0.3), 3))
        start += length
    same = sum(1 for a, b in zip(kinds, kinds[1:], strict=False) if a == b)
    return Drawn(shots, sources, kinds, flashes, rng.randrange(8, 18), same, panned)


def _even(value: float) -> int:
    return int(value) // 2 * 2
