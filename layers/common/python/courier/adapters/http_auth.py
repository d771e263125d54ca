"""API-key authentication for the FastAPI apps: one dependency, one rule for all APIs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header

from courier.auth.api_keys import ApiKeyStore


def tenant_dependency(keys: ApiKeyStore) -> Any:
    """`Annotated[str, Depends(...)]` giving the caller's tenant from `Authorization:
    Bearer <key>` or `x-api-key`; 401 for a missing, unknown or revoked key."""

    def tenant(
        authorization: Annotated[str | None, Header()] = None,
        x_api_key: Annotated[str | None, Header()] = None,
    ) -> str:
        key = x_api_key
        if authorization and authorization.lower().startswith("bearer "):
            key = authorization[7:].strip()
        return keys.authenticate(key)

    return Annotated[str, Depends(tenant)]
