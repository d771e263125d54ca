"""What a scan measures: one sample per decoded frame, and the scan's whole record (pooled
thumbnails, histograms, stills). Data only, so the cut rules (cuts.py) and the decoder
(scan.py) share it without importing each other."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from courier.video.stills import Still


@dataclass
class Sample:
    time: float
    key: bool  # an I-frame
    score: float  # layout change (pooled blocks) from the previous sample, 0-255
    colour: float  # histogram change from the previous sample, 0-6
    luma: float
    sharpness: float  # `images.detail` of the thumbnail: which frame of a second is the crispest still
    #: The encoder's surprise at this frame (`PacketIndex.surprise`), 0 when unsurprised.
    surprise: float = 0.0

    @property
    def motion(self) -> float:
        return self.score


@dataclass
class Scan:
    samples: list[Sample] = field(default_factory=list)
    #: Pooled thumbnails and histograms, for flash checks.
    layouts: list[np.ndarray] = field(default_factory=list)
    histograms: list[np.ndarray] = field(default_factory=list)
    stills: list[Still] = field(default_factory=list)
