"""PySceneDetect's cut detection on one video, in its own process, as its users run it:

    python -m bench.video.method FILE      # detect(FILE, ContentDetector()), defaults

Prints one JSON line: the cuts, and the inner time (detection alone, without the
process's start and imports). The caller measures the process from start to exit.
"""

from __future__ import annotations

import json
import sys
import time


def main() -> None:
    from scenedetect import ContentDetector, detect

    started = time.perf_counter()
    scenes = detect(sys.argv[1], ContentDetector())
    inner = time.perf_counter() - started
    print(json.dumps({"cuts": [round(start.seconds, 3) for start, _ in scenes[1:]], "inner": round(inner, 3)}))


if __name__ == "__main__":
    main()
