"""`make package`: build every Lambda asset for real and check it fits in Lambda.

Prints each function's unzipped size with its layers (what Lambda counts against its
250 MB limit) and exits non-zero if any function is over.
"""

from __future__ import annotations

import sys

from infra.assets import (
    CODE_EXCLUDES,
    COMMON_LAYER_DIR,
    SizeReport,
    build_dependency_layer,
    build_workers_layer,
    function_dir,
    tree_size,
)
from infra.config import LAMBDA_UNZIPPED_LIMIT_BYTES, CourierConfig

MB = 1024 * 1024


def size_reports(config: CourierConfig) -> list[SizeReport]:
    layer_sizes = {"common": tree_size(COMMON_LAYER_DIR, CODE_EXCLUDES)}
    workers = build_workers_layer()
    shared = ("common",) if workers is None else ("common", "workers")
    if workers is not None:
        layer_sizes["workers"] = tree_size(workers, (".complete",))
    reports = []
    for spec in config.functions:
        for name in spec.layers:
            if name not in layer_sizes:
                layer_sizes[name] = tree_size(build_dependency_layer(name), (".complete",))
        reports.append(
            SizeReport(
                function=spec.name,
                code_bytes=tree_size(function_dir(spec.name), CODE_EXCLUDES),
                layer_bytes={name: layer_sizes[name] for name in (*shared, *spec.layers)},
            )
        )
    return reports


def main() -> int:
    reports = size_reports(CourierConfig())
    limit = LAMBDA_UNZIPPED_LIMIT_BYTES
    print(f"{'function':<18}{'code':>10}  {'layers':<44}{'total':>10}  of {limit / MB:.0f} MB")
    over = []
    for report in reports:
        layers = ", ".join(f"{name} {size / MB:.2f}" for name, size in report.layer_bytes.items())
        print(f"{report.function:<18}{report.code_bytes / MB:>9.2f}M  {layers:<44}{report.total_bytes / MB:>9.1f}M")
        if report.total_bytes > limit:
            over.append(report.function)
    if over:
        print(f"over Lambda's unzipped limit: {', '.join(over)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
