"""Measures of small images (numpy arrays): the arithmetic behind cuts and metrics."""

from __future__ import annotations

import numpy as np

#: The side of a pooled block, in thumbnail pixels.
BLOCK = 4


def sharpness(luma: np.ndarray) -> float:
    """Variance of a 4-neighbour Laplacian: blurred and motion-smeared frames score low."""
    lap = -4 * luma[1:-1, 1:-1] + luma[:-2, 1:-1] + luma[2:, 1:-1] + luma[1:-1, :-2] + luma[1:-1, 2:]
    return float(lap.var())


def colorfulness(rgb: np.ndarray) -> float:
    """Hasler and Süsstrunk (2003): 0 for grey, about 100+ for very colourful images."""
    r, g, b = (rgb[..., i].astype(np.float32) for i in range(3))
    rg, yb = r - g, 0.5 * (r + g) - b
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def brightness_contrast(luma: np.ndarray) -> tuple[float, float]:
    return float(luma.mean()), float(luma.std())


def pooled(thumb: np.ndarray, block: int = BLOCK) -> np.ndarray:
    """Block means of a planar (3, h, w) thumbnail whose sides are multiples of `block`:
    fine texture (noise, chaotic patterns) averages out, scene layout stays.

    Summed by strided slices in 16 bits (numpy's sum over reshaped axes takes longer: it runs per frame).
    """
    rows = thumb[:, 0::block].astype(np.uint16)
    for offset in range(1, block):
        rows += thumb[:, offset::block]
    sums = rows[:, :, 0::block].copy()
    for offset in range(1, block):
        sums += rows[:, :, offset::block]
    means: np.ndarray = sums.astype(np.float32) * (1.0 / (block * block))
    return means


#: Y in 32 bins, U and V in 16 each, side by side in one count of 64.
_SHIFTS = np.array([3, 4, 4], np.uint8).reshape(3, 1, 1)
_OFFSETS = np.array([0, 32, 48], np.uint8).reshape(3, 1, 1)


def histogram(thumb: np.ndarray) -> np.ndarray:
    """Normalised Y (32 bins), U and V (16 bins each) histograms of a planar uint8 YUV
    thumbnail, concatenated (each sums to 1): one count for the three planes."""
    bins = thumb >> _SHIFTS
    bins += _OFFSETS
    values: np.ndarray = np.bincount(bins.ravel(), minlength=64).astype(np.float32) * (1.0 / max(1, thumb[0].size))
    return values


def detail(luma: np.ndarray) -> float:
    """Mean absolute step between neighbours of a uint8 picture: a sharpness cheap enough
    for every frame (blur and motion smear lower it), to pick the crispest of a second."""
    signed = luma.astype(np.int16)
    return float(np.abs(signed[:, 1:] - signed[:, :-1]).mean())


def layout_delta(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute change of pooled YUV blocks (0-255 scale)."""
    return float(np.abs(a - b).mean())


def histogram_delta(a: np.ndarray, b: np.ndarray) -> float:
    """L1 distance of two `histogram`s: 0 (same colours) to 6 (nothing in common)."""
    return float(np.abs(a - b).sum())
