"""One benchmark method on one video, in its own process: prints its cuts, wall and CPU
seconds and peak memory as one JSON line."""

from __future__ import annotations

import json
import re
import resource
import subprocess
import sys
import time


def courier(path: str, full: bool) -> list[float]:
    from courier.video.cuts import detect, refine_all
    from courier.video.pipeline import Options, analyze
    from courier.video.probe import open_video, probe
    from courier.video.scan import scan

    if full:
        return [c["time"] for c in analyze(path, Options(), lambda name, data: name)["cuts"]]
    with open_video(path) as container:
        info = probe(container)
    result = scan(path, info.duration)
    return refine_all(path, result, detect(result), info.fps)


def pyscenedetect(path: str) -> list[float]:
    from scenedetect import ContentDetector, detect

    scenes = detect(path, ContentDetector())
    return [start.seconds for start, _ in scenes[1:]]


def ffmpeg_scene(path: str) -> list[float]:
    import imageio_ffmpeg

    output = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", path, "-filter:v", "select='gt(scene,0.3)',showinfo", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    )
    return [float(t) for t in re.findall(r"pts_time:([0-9.]+)", output.stderr)]


def decode_only(path: str) -> list[float]:
    import av

    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for _ in container.decode(stream):
            pass
    return []


def main() -> None:
    method, path = sys.argv[1], sys.argv[2]
    runners = {
        "courier": lambda: courier(path, full=False),
        "courier-full": lambda: courier(path, full=True),
        "pyscenedetect": lambda: pyscenedetect(path),
        "ffmpeg-scene": lambda: ffmpeg_scene(path),
        "decode-only": lambda: decode_only(path),
    }
    started = time.perf_counter()
    cuts = runners[method]()
    wall = time.perf_counter() - started
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    peak_mb = max(own.ru_maxrss, children.ru_maxrss) / 1024
    print(json.dumps({"cuts": [round(c, 3) for c in cuts], "wall": round(wall, 2), "cpu": round(cpu, 2), "peak_mb": round(peak_mb, 1)}))


if __name__ == "__main__":
    main()
