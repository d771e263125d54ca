"""Measures of small images (numpy arrays): the arithmetic behind cuts and metrics."""

from __future__ import annotations

import numpy as np

#: BT.601 weights: luma and the two colour differences from RGB.
_YUV = np.array([[0.299, 0.587, 0.114], [-0.169, -0.331, 0.5], [0.5, -0.419, -0.081]], dtype=np.float32)


def to_yuv(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(np.float32) @ _YUV.T


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


def pooled(thumb: np.ndarray, block: int = 4) -> np.ndarray:
    """Block means: fine texture (noise, chaotic patterns) averages out, scene layout stays."""
    h, w = thumb.shape[0] // block * block, thumb.shape[1] // block * block
    means: np.ndarray = thumb[:h, :w].reshape(h // block, block, w // block, block, -1).mean(axis=(1, 3))
    return means


def histogram(thumb: np.ndarray) -> np.ndarray:
    """Normalised Y (32 bins), U and V (16 bins each) histograms, concatenated (sums to 3)."""
    parts = [
        np.histogram(thumb[..., 0], bins=32, range=(0, 256))[0],
        np.histogram(thumb[..., 1], bins=16, range=(-128, 128))[0],
        np.histogram(thumb[..., 2], bins=16, range=(-128, 128))[0],
    ]
    values = np.concatenate(parts).astype(np.float32)
    return values * (3.0 / max(1.0, float(values.sum())))


def layout_delta(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute change of pooled YUV blocks (0-255 scale)."""
    return float(np.abs(a - b).mean())


def histogram_delta(a: np.ndarray, b: np.ndarray) -> float:
    """L1 distance of two `histogram`s: 0 (same colours) to 6 (nothing in common)."""
    return float(np.abs(a - b).sum())
