"""Docker-free layer building: hashing, pruning, sizes."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra import assets


def test_hash_follows_requirements(tmp_path: Path) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text("six==1.17.0\n")
    first = assets.layer_inputs_hash(req)
    assert assets.layer_inputs_hash(req) == first
    req.write_text("six==1.16.0\n")
    assert assets.layer_inputs_hash(req) != first


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
    """Real pip, real wheels for aarch64/cp3.14: pydantic-core has no pure-Python fallback."""
    req = tmp_path / "requirements.txt"
    req.write_text("pydantic-core==2.50.4\n")
    monkeypatch.setitem(assets.DEPENDENCY_LAYERS, "probe", req)
    layer = assets.build_dependency_layer("probe", build_dir=tmp_path / "build")
    site = layer / "python"
    binaries = [p for p in (site / "pydantic_core").glob("_pydantic_core*.so")]
    assert binaries and all("aarch64" in p.name and "314" in p.name for p in binaries), binaries
    assert all(p.read_bytes()[18:20] == (183).to_bytes(2, "little") for p in binaries)  # ELF arm64
    assert not list(site.rglob("__pycache__"))
    marker = (layer / ".complete").stat().st_mtime_ns
    assert assets.build_dependency_layer("probe", build_dir=tmp_path / "build") == layer
    assert (layer / ".complete").stat().st_mtime_ns == marker  # reused, not rebuilt


def test_failed_build_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text("this-package-does-not-exist-courier==0.0.1\n")
    monkeypatch.setitem(assets.DEPENDENCY_LAYERS, "broken", req)
    with pytest.raises(RuntimeError, match="broken"):
        assets.build_dependency_layer("broken", build_dir=tmp_path / "build")
    assert not list((tmp_path / "build" / "layers").glob("broken-*/.complete"))
