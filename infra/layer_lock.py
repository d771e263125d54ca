"""Lock files for the dependency layers: every package Lambda gets, pinned, with its hash.

A requirements file pins only the direct dependencies; pip resolves the rest when the
layer is built, so two builds of the same requirements could ship different packages
under the same asset hash (and CDK would skip uploading the second). The lock is the
full resolution for Lambda's platform (`make lock` writes it), the layer is installed
from it with `--require-hashes --no-deps`, and the asset hash covers the lock.

`python -m infra.layer_lock [--check]`: write the locks, or fail when one is out of date.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from infra.config import LAMBDA_PYTHON_VERSION
from infra.layer_sources import DEPENDENCY_LAYERS, ROOT

#: Wheels Lambda's arm64 runtime (Amazon Linux 2023, glibc 2.34) can load.
PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64")
#: pip options that select wheels for Lambda rather than for this machine.
TARGET_OPTIONS = (
    "--only-binary=:all:", "--implementation", "cp", "--python-version", LAMBDA_PYTHON_VERSION,
    *[arg for platform in PLATFORMS for arg in ("--platform", platform)],
)
_INPUTS_PREFIX = "# inputs: "


class StaleLock(RuntimeError):
    pass


def lock_path(requirements: Path) -> Path:
    return requirements.with_suffix(".lock")


def inputs_digest(requirements: Path) -> str:
    """What the lock was resolved from: the requirements and the target platform."""
    digest = hashlib.sha256(requirements.read_bytes())
    digest.update(" ".join(TARGET_OPTIONS).encode())
    return digest.hexdigest()


def resolve(requirements: Path) -> list[tuple[str, str, str]]:
    """(name, version, sha256) of every distribution pip would install for Lambda."""
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        command = [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--dry-run",
            "--ignore-installed", "--target", str(Path(scratch) / "never"), "--report", str(report),
            *TARGET_OPTIONS, "-r", str(requirements),
        ]
        result = subprocess.run(command, env={**os.environ, "PIP_CONSTRAINT": ""}, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"pip could not resolve {requirements} for Lambda:\n{result.stderr[-4000:]}")
        installs = json.loads(report.read_text())["install"]
    found = []
    for item in installs:
        hashes = item["download_info"].get("archive_info", {}).get("hashes", {})
        if "sha256" not in hashes:
            raise RuntimeError(f"{item['metadata']['name']}: the index gave no sha256 to lock")
        found.append((item["metadata"]["name"].lower().replace("_", "-"), item["metadata"]["version"], hashes["sha256"]))
    return sorted(found)


def render(requirements: Path, pins: list[tuple[str, str, str]]) -> str:
    lines = [
        f"# Every package of the layer built from {requirements.name}, for Lambda ({' '.join(TARGET_OPTIONS)}).",
        "# Written by `make lock`; do not edit. The layer is installed with --require-hashes --no-deps.",
        f"{_INPUTS_PREFIX}{inputs_digest(requirements)}",
    ]
    lines += [f"{name}=={version} \\\n    --hash=sha256:{sha}" for name, version, sha in pins]
    return "\n".join(lines) + "\n"


def write(requirements: Path) -> Path:
    path = lock_path(requirements)
    path.write_text(render(requirements, resolve(requirements)))
    return path


def check(requirements: Path) -> Path:
    """The lock exists and was made from these requirements (no network needed)."""
    path = lock_path(requirements)
    if not path.is_file():
        raise StaleLock(f"{path} is missing: run `make lock`")
    recorded = next((line[len(_INPUTS_PREFIX):] for line in path.read_text().splitlines() if line.startswith(_INPUTS_PREFIX)), None)
    if recorded != inputs_digest(requirements):
        raise StaleLock(f"{path} is out of date with {requirements.name}: run `make lock`")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.layer_lock", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a lock is missing or stale; write nothing")
    args = parser.parse_args(argv)
    status = 0
    for name, requirements in DEPENDENCY_LAYERS.items():
        try:
            path = check(requirements) if args.check else write(requirements)
            print(f"{name}: {path.relative_to(ROOT)} {'is current' if args.check else 'written'}")
        except StaleLock as error:
            print(f"{name}: {error}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
