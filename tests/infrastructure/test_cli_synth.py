"""`cdk synth` through the pinned CLI, with real bundling and no Docker, as users run it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from infra.layer_sources import DEPENDENCY_LAYERS, ROOT
from tests.infrastructure.conftest import assert_every_finding_acknowledged

CDK = ROOT / "node_modules" / ".bin" / "cdk"
AARCH64 = 183  # ELF e_machine of arm64


def elf_machine(path: Path) -> int:
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF"
    return int.from_bytes(header[18:20], "little")


def test_cli_synth_bundles_layers_without_docker(tmp_path: Path) -> None:
    assert CDK.exists(), "run through `make test`, which installs the pinned CDK CLI"
    env = {
        **os.environ,
        # python3 on PATH is this venv's, as `make synth` arranges; no docker on PATH at all.
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), str(Path(shutil.which("node") or "/usr/bin/node").parent)]),
        "CDK_DISABLE_VERSION_CHECK": "1",
    }
    assert shutil.which("docker", path=env["PATH"]) is None
    result = subprocess.run(
        [str(CDK), "synth", "--quiet", "--output", str(tmp_path / "cdk.out")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = tmp_path / "cdk.out"
    template = json.loads((out / "Courier-dev.template.json").read_text())
    layers = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::LayerVersion"]
    assert len(layers) == 2 + len(DEPENDENCY_LAYERS)  # common, workers of your own, and each dependency layer
    assets = [p for p in out.glob("asset.*") if (p / "python").is_dir()]
    # The video layer holds PyAV built for Lambda's arm64, not for this host.
    av_libs = [p for a in assets for p in (a / "python" / "av").glob("*.so")]
    assert av_libs and all(elf_machine(p) == AARCH64 for p in av_libs)
    assert not any((a / "python" / "boto3").exists() for a in assets)
    assert_every_finding_acknowledged(out / "validation-report.json")
