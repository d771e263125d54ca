"""The Lambda layers every function shares: Courier's library and pip-built dependencies."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import AssetHashType, Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.assets import (
    BUILD_DIR,
    CODE_EXCLUDES,
    COMMON_LAYER_DIR,
    build_dependency_layer,
    build_workers_layer,
    layer_inputs_hash,
)
from infra.config import LAMBDA_PYTHON_VERSION
from infra.layer_sources import DEPENDENCY_LAYERS

RUNTIME: lambda_.Runtime = getattr(lambda_.Runtime, "PYTHON_" + LAMBDA_PYTHON_VERSION.replace(".", "_"))
ARCHITECTURE = lambda_.Architecture.ARM_64


class SharedLayers(Construct):
    """Creates each layer once per stack, on first use, so unused layers cost nothing."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.common = lambda_.LayerVersion(
            self,
            "Common",
            code=lambda_.Code.from_asset(str(COMMON_LAYER_DIR), exclude=list(CODE_EXCLUDES)),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="Courier shared library (courier package)",
        )
        workers = build_workers_layer()
        self.workers: lambda_.LayerVersion | None = None
        if workers is not None:
            self.workers = lambda_.LayerVersion(
                self,
                "Workers",
                code=lambda_.Code.from_asset(str(workers), exclude=[".complete"]),
                compatible_runtimes=[RUNTIME],
                compatible_architectures=[ARCHITECTURE],
                description="Courier workers of their own (functions/*/worker.py and their code)",
            )
        self._dependencies: dict[str, lambda_.LayerVersion] = {}

    def for_function(self, dependency_layers: tuple[str, ...]) -> list[lambda_.ILayerVersion]:
        shared: list[lambda_.ILayerVersion] = [self.common] if self.workers is None else [self.common, self.workers]
        return [*shared, *(self.dependency(name) for name in dependency_layers)]

    def dependency(self, name: str) -> lambda_.LayerVersion:
        if name not in self._dependencies:
            self._dependencies[name] = lambda_.LayerVersion(
                self,
                f"Deps-{name}",
                code=self._dependency_code(name),
                compatible_runtimes=[RUNTIME],
                compatible_architectures=[ARCHITECTURE],
                description=f"Third-party packages from {DEPENDENCY_LAYERS[name].relative_to(COMMON_LAYER_DIR.parent.parent)}",
            )
        return self._dependencies[name]

    def _dependency_code(self, name: str) -> lambda_.Code:
        asset_hash = layer_inputs_hash(DEPENDENCY_LAYERS[name])
        if Stack.of(self).bundling_required:
            folder = build_dependency_layer(name)
        else:
            # Tests and `cdk synth --exclusively` skip bundling: an empty stand-in, under
            # its own hash so that a cached cloud assembly can never mistake it for the layer.
            folder, asset_hash = _placeholder(name), f"{asset_hash}-not-bundled"
        return lambda_.Code.from_asset(
            str(folder),
            asset_hash=asset_hash,
            asset_hash_type=AssetHashType.CUSTOM,
            exclude=[".complete"],
        )


def _placeholder(name: str) -> Path:
    folder = BUILD_DIR / "layers" / f"{name}-not-bundled"
    (folder / "python").mkdir(parents=True, exist_ok=True)
    (folder / "README").write_text("Bundling was skipped for this synth; `make package` builds the real layer.\n")
    return folder
