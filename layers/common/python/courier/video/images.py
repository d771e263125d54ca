"""Measures of small images (numpy arrays): the arithmetic behind cuts and metrics."""

from __future__ import annotations

import numpy as np

#: BT.601 weights: luma and the two colour differences from RGB.
_YUV = np.array([[0.299, 0.587, 0.114], [-0.169, -0.331, 0.5], [0.5, -0.419, -0.081]], dtype=np.float32)


def to_yuv(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(np.float32) @ _YUV.T


def content_delta(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute change of luma and colour between two YUV thumbnails (0-255 scale)."""
    diff = np.abs(a - b)
    return float(diff[..., 0].mean() * 0.5 + diff[..., 1].mean() * 0.25 + diff[..., 2].mean() * 0.25) * 2


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
