"""Docker-free layer building from lock files: locking, hashing, pruning, sizes (real pip,
wheels for Lambda's platform from the package index)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from infra import assets, layer_lock
from infra.config import LAMBDA_PYTHON_VERSION


def locked(tmp_path: Path, text: str) -> Path:
    req = tmp_path / "requirements.txt"
    req.write_text(text)
    layer_lock.write(req)
    return req


def test_the_lock_pins_every_transitive_dependency_with_its_hash(tmp_path: Path) -> None:
    req = locked(tmp_path, "httpx==0.28.1\n")
    text = layer_lock.lock_path(req).read_text()
    pins = dict(re.findall(r"^([a-z0-9-]+)==(\S+) \\$", text, re.M))
    assert pins["httpx"] == "0.28.1" and {"httpcore", "h11", "anyio", "idna", "certifi"} <= set(pins)
    assert len(re.findall(r"--hash=sha256:[0-9a-f]{64}$", text, re.M)) == len(pins)


def test_hash_follows_the_lock_and_a_stale_lock_stops_the_synth(tmp_path: Path) -> None:
    req = locked(tmp_path, "six==1.17.0\n")
    first = assets.layer_inputs_hash(req)
    assert assets.layer_inputs_hash(req) == first
    lock = layer_lock.lock_path(req)
    # Same requirements, another resolution (a transitive dependency moved): another hash.
    lock.write_text(lock.read_text().replace("six==1.17.0", "six==1.16.0"))
    assert assets.layer_inputs_hash(req) != first
    req.write_text("six==1.16.0\n")
    with pytest.raises(layer_lock.StaleLock, match="make lock"):
        assets.layer_inputs_hash(req)


def test_the_repositorys_locks_are_current_and_match_the_pins() -> None:
    for requirements in assets.DEPENDENCY_LAYERS.values():
        text = layer_lock.check(requirements).read_text()
        for line in requirements.read_text().splitlines():
            if line and not line.startswith("#"):
                name, version = line.split("==")
                assert f"\n{name.lower().replace('_', '-')}=={version} \\\n" in text, line


def test_a_wheel_that_does_not_match_its_hash_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    req = locked(tmp_path, "six==1.17.0\n")
    lock = layer_lock.lock_path(req)
    lock.write_text(re.sub(r"sha256:[0-9a-f]{64}", "sha256:" + "0" * 64, lock.read_text()))
    monkeypatch.setitem(assets.DEPENDENCY_LAYERS, "tampered", req)
    with pytest.raises(RuntimeError, match="(?i)hash"):
        assets.build_dependency_layer("tampered", build_dir=tmp_path / "build")


def test_prune_drops_sdk_caches_and_tests(tmp_path: Path) -> None:
    site = tmp_path / "python"
    for path in (
        "boto3/__init__.py", "boto3-1.0.dist-info/METADATA", "botocore/data.json", "s3transfer/__init__.py",
        "bin/fastapi", "pkg/__init__.py", "pkg/__pycache__/x.cpython-312.pyc", "pkg/tests/test_x.py",
        "pkg/mod.pyc", "tests/__init__.py",
    ):
        (site / path).parent.mkdir(parents=True, exist_ok=True)
        (site / path).write_text("x")
    assets.prune_site_packages(site)
    left = sorted(str(p.relative_to(site)) for p in site.rglob("*") if p.is_file())
    assert left == ["pkg/__init__.py", "tests/__init__.py"]


def test_tree_size_excludes(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_bytes(b"x" * 100)
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "a.pyc").write_bytes(b"x" * 1000)
    (tmp_path / "requirements.txt").write_bytes(b"x" * 10)
    assert assets.tree_size(tmp_path, assets.CODE_EXCLUDES) == 100
    assert assets.tree_size(tmp_path) == 1110


def test_build_layer_for_lambda_platform_and_reuse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real pip, real wheels for aarch64 and Lambda's CPython: pydantic-core has no pure-Python fallback."""
    req = locked(tmp_path, "pydantic-core==2.50.4\n")
    monkeypatch.setitem(assets.DEPENDENCY_LAYERS, "probe", req)
    layer = assets.build_dependency_layer("probe", build_dir=tmp_path / "build")
    site = layer / "python"
    binaries = [p for p in (site / "pydantic_core").glob("_pydantic_core*.so")]
    assert binaries and all("aarch64" in p.name and f"cpython-{LAMBDA_PYTHON_VERSION.replace('.', '')}" in p.name for p in binaries), binaries
    assert all(p.read_bytes()[18:20] == (183).to_bytes(2, "little") for p in binaries)  # ELF arm64
    assert not list(site.rglob("__pycache__"))
    marker = (layer / ".complete").stat().st_mtime_ns
    assert assets.build_dependency_layer("probe", build_dir=tmp_path / "build") == layer
    assert (layer / ".complete").stat().st_mtime_ns == marker  # reused, not rebuilt


def test_failed_lock_says_why(tmp_path: Path) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text("this-package-does-not-exist-courier==0.0.1\n")
    with pytest.raises(RuntimeError, match="this-package-does-not-exist-courier"):
        layer_lock.write(req)
    assert not layer_lock.lock_path(req).exists()
