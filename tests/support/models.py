"""The default catalog pointed at a fake model server on loopback, for router tests."""

from __future__ import annotations

import json
from typing import Any

from courier.ai.catalog import Catalog, load_catalog

DEFAULT_DEPLOYMENTS = ("DeepSeek-R1", "DeepSeek-V3-0324", "Phi-4-multimodal-instruct", "Phi-4")


def catalog_override(url: str, *, key_secret: str | None = None, offload: bool = False, **sections: Any) -> str:
    """COURIER_AI_CATALOG for the shipped catalog with every deployment at `url` (`offload`:
    each may be called by QStash)."""
    deployments = [{"name": n, "keySecret": key_secret, **({"offload": True} if offload else {})} for n in DEFAULT_DEPLOYMENTS]
    deployments += sections.pop("deployments", [])
    return json.dumps({"deployments": deployments, **sections})


def fake_catalog(url: str, **sections: Any) -> Catalog:
    return load_catalog({"AZURE_AI_FOUNDRY_ENDPOINT": url, "COURIER_AI_CATALOG": catalog_override(url, **sections)})
