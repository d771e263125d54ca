"""Where each layer's sources are: the repository, the worker folders, and the requirements
file each dependency layer is built from. Its own module, so the lock (layer_lock) and the
build (assets) both read it without importing each other."""

from __future__ import annotations

from pathlib import Path

from courier.jobs.catalog import worker_folders

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = ROOT / "functions"

#: Dependency layers by name: the requirements file each is built from. A worker folder's
#: own requirements.txt is the layer "<name>-deps".
DEPENDENCY_LAYERS: dict[str, Path] = {
    "deps": ROOT / "requirements.txt",
    "video-deps": FUNCTIONS_DIR / "video_processor" / "requirements.txt",
    **{f"{name}-deps": FUNCTIONS_DIR / name / "requirements.txt"
       for name in worker_folders(FUNCTIONS_DIR) if (FUNCTIONS_DIR / name / "requirements.txt").exists()},
}
