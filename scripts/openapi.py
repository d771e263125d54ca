"""The jobs API's and the AI router's OpenAPI documents, as the TypeScript client is
generated from them: `python scripts/openapi.py [--check]` writes (or checks) the JSON in
clients/typescript/openapi/; `npm run generate` there turns it into types."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "clients" / "typescript" / "openapi"
APPS = {"jobs-api": "functions.jobs_api.handler", "router": "functions.ai_router.handler"}


def documents() -> dict[str, str]:
    """Each API's document; the jobs API's lists the job types Courier ships (as its docs and
    cost table do): a team's own worker's types are in its deployment's /openapi.json."""
    sys.path.insert(0, str(ROOT))  # the functions package, as the local stack imports it
    from fastapi import FastAPI

    from courier.adapters.http_app import add_error_schema
    from courier.jobs import catalog
    from courier.jobs.schemas import add_job_types

    loaded = catalog.load()
    shipped = catalog.Catalog.of(loaded.shipped_workers, loaded.shipped_job_types)
    texts = {}
    for name, module in APPS.items():
        app = importlib.import_module(module).app
        app.openapi_schema = None
        document: dict[str, Any] = add_error_schema(FastAPI.openapi(app))
        if name == "jobs-api":
            document = add_job_types(json.loads(json.dumps(document)), shipped)
        app.openapi_schema = None
        texts[name] = json.dumps(document, indent=2, sort_keys=True) + "\n"
    return texts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the committed documents are stale")
    args = parser.parse_args(argv)
    stale = []
    for name, text in documents().items():
        path = OUT / f"{name}.json"
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path.relative_to(ROOT)))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if stale:
        print(f"stale: {', '.join(stale)}; run `make client-types`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
