"""Docker-free Lambda assets: code folders and pip-built dependency layers.

CDK's own Python bundling runs pip inside a Docker image. No Docker engine runs on our
users' CI or here, and pip can already fetch wheels for another platform, so layers are
built on the host with `pip install --platform ... --only-binary=:all: --target` and
cached by a hash of their inputs. This module has no CDK import: `make package` and the
stack share it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from courier.jobs.catalog import worker_folders
from infra.config import LAMBDA_PYTHON_VERSION
from infra.layer_lock import PLATFORMS, TARGET_OPTIONS
from infra.layer_lock import check as checked_lock
from infra.layer_sources import DEPENDENCY_LAYERS, FUNCTIONS_DIR, ROOT

BUILD_DIR = ROOT / ".build"
COMMON_LAYER_DIR = ROOT / "layers" / "common"

#: The Lambda runtime ships the AWS SDK; a layer copy only adds size and cold start.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer")
#: Left out of every code asset (caches, and the requirements that became layers).
CODE_EXCLUDES = ("__pycache__", "*.pyc", "*.egg-info", "requirements.txt", "requirements.lock", ".pytest_cache")

#: Left out of the workers layer: each worker's handler is its own function's code.
WORKER_LAYER_EXCLUDES = ("handler.py", *CODE_EXCLUDES)


def function_dir(name: str) -> Path:
    return FUNCTIONS_DIR / name


def build_workers_layer(*, build_dir: Path = BUILD_DIR, root: Path = FUNCTIONS_DIR) -> Path | None:
    """The layer that carries every worker folder as the `functions` package (less their
    handlers), so every function's catalogue sees the same job types: the jobs API validates
    them, each worker imports its own job code. None when there is no such folder."""
    folders = worker_folders(root)
    if not folders:
        return None
    files = sorted(
        path for name in folders for path in (root / name).rglob("*")
        if path.is_file() and not any(path.match(p) or any(part.match(p) for part in path.relative_to(root).parents)
                                      for p in WORKER_LAYER_EXCLUDES)
    )
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    target = build_dir / "layers" / f"workers-{digest.hexdigest()[:16]}"
    if not (target / ".complete").exists():
        staging = target.with_name(target.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        package = staging / "python" / "functions"
        package.mkdir(parents=True)
        (package / "__init__.py").write_text('"""Courier workers of their own (functions/<name>/), from the repository."""\n')
        for path in files:
            destination = package / path.relative_to(root)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
        (target / ".complete").write_text("\n".join(folders) + "\n")
    return target


def layer_inputs_hash(requirements: Path) -> str:
    """Hash of everything that changes what goes into the layer: the lock (every package
    and its wheel's hash, so no resolution can change under the same hash) and the target."""
    digest = hashlib.sha256()
    digest.update(checked_lock(requirements).read_bytes())
    digest.update(LAMBDA_PYTHON_VERSION.encode())
    digest.update(",".join(PLATFORMS).encode())
    digest.update(",".join(RUNTIME_PROVIDED).encode())
    return digest.hexdigest()[:16]


def build_dependency_layer(name: str, *, build_dir: Path = BUILD_DIR) -> Path:
    """Build (or reuse) a layer folder whose `python/` holds the layer's wheels installed.

    The folder is named by the inputs hash, so an unchanged requirements file costs
    nothing on the next synth, and a changed one can never reuse a stale build.
    """
    requirements = DEPENDENCY_LAYERS[name]
    target = build_dir / "layers" / f"{name}-{layer_inputs_hash(requirements)}"
    marker = target / ".complete"
    if marker.exists():
        return target
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    site = staging / "python"
    site.mkdir(parents=True)
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-compile", "--require-hashes", "--no-deps", *TARGET_OPTIONS,
        "--target", str(site), "-r", str(checked_lock(requirements)),
    ]
    # The host's pip constraints (if any) are about the host, not about Lambda.
    env = {**os.environ, "PIP_CONSTRAINT": ""}
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"pip could not build layer {name!r} for Lambda:\n{result.stderr[-4000:]}")
    prune_site_packages(site)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    marker.write_text(" ".join(command[3:]) + "\n")
    return target


def prune_site_packages(site: Path) -> None:
    """Drop what Lambda provides or never runs: the AWS SDK, caches, test suites."""
    for entry in list(site.iterdir()):
        package = entry.name.split("-")[0].lower()
        if package in RUNTIME_PROVIDED or entry.name == "bin":
            _remove(entry)
    for pattern in ("__pycache__", "tests"):
        for path in sorted(site.rglob(pattern), reverse=True):
            # A top-level package literally named "tests" is not a test suite of a package.
            if path.parent != site:
                _remove(path)
    for path in site.rglob("*.pyc"):
        path.unlink()


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


@dataclass(frozen=True)
class SizeReport:
    function: str
    code_bytes: int
    layer_bytes: dict[str, int]

    @property
    def total_bytes(self) -> int:
        return self.code_bytes + sum(self.layer_bytes.values())


def tree_size(path: Path, excludes: tuple[str, ...] = ()) -> int:
    """Unzipped size of a folder as Lambda counts it, minus excluded names."""
    total = 0
    for root, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if not any(Path(d).match(p) for p in excludes)]
        for file in files:
            if not any(Path(file).match(p) for p in excludes):
                total += (Path(root) / file).stat().st_size
    return total
