"""The model catalog as a document, before validation: where the default lies, how
`${VAR}` / `${VAR:-default}` expand, and whether a task type could have a model at all.

No pydantic here: `courier video analyze` asks `could_serve` before deciding to load the
router (a fifth of a second of imports), so a video with no model configured never pays
for it. `catalog.py` validates the same document.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

DEFAULT_CATALOG = Path(__file__).with_name("catalog.json")
DEFAULT_ROUTE = "default"
#: Variables that override the default catalog (inline JSON or a file; an SSM parameter).
OVERRIDES = ("COURIER_AI_CATALOG", "COURIER_AI_CATALOG_PARAMETER")
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand(value: Any, env: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return _VARIABLE.sub(lambda m: env.get(m.group(1)) or (m.group(2) or ""), value)
    if isinstance(value, list):
        return [expand(v, env) for v in value]
    if isinstance(value, dict):
        return {k: expand(v, env) for k, v in value.items()}
    return value


def could_serve(task_type: str, env: Mapping[str, str]) -> bool:
    """False only when nothing could serve `task_type`: no override, and no deployment of
    its route in the default catalog has a base URL once expanded. True means "ask the
    router" (an override may name any deployment)."""
    if any(env.get(name, "").strip() for name in OVERRIDES):
        return True
    document = json.loads(DEFAULT_CATALOG.read_text())
    routes = document.get("routes", {})
    names = set(routes.get(task_type) or routes.get(DEFAULT_ROUTE) or ())
    return any(str(expand(d.get("baseUrl", ""), env)).strip() for d in document.get("deployments", []) if d.get("name") in names)
