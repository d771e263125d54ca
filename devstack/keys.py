"""The API keys the local stack keeps on disk: the demo tenant's, which the supervisor makes
as the stack starts (so `curl` and the console can use it at once), and those the CLI makes
for `--tenant`. They live in the stack's table, so they are made anew with each stack."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

DEMO_TENANT = "demo"


def kept_key(path: Path, table: str, tenant: str, name: str, *, client: Any = None) -> str:
    """A key for `tenant`, made once and kept in `path` (mode 600); made again when the kept
    one is no longer accepted (a new local stack keeps nothing), or acts as another tenant."""
    from courier.auth.api_keys import ApiKeyStore

    store = ApiKeyStore(table, client=client)
    if path.exists():
        key = path.read_text().strip()
        try:
            if store.authenticate(key) == tenant:
                return key
        except Exception:  # a key from an earlier stack, or revoked
            pass
    key = store.create(tenant, name)[1]
    path.parent.mkdir(parents=True, exist_ok=True)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as kept:
        kept.write(key + "\n")
    path.chmod(0o600)  # a file kept from before keeps its own mode otherwise
    return key
