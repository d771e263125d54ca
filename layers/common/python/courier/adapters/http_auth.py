"""API-key authentication for the FastAPI apps: one dependency, one rule for all APIs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Header

from courier.auth.api_keys import ApiKeyStore


def _presented_key(authorization: str | None, x_api_key: str | None) -> str | None:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return x_api_key


def tenant_dependency(keys: ApiKeyStore) -> Callable[..., str]:
    """The dependency giving the caller's tenant from `Authorization: Bearer <key>` or
    `x-api-key`; 401 for a missing, unknown or revoked key. A handler declares
    `Tenant = Annotated[str, Depends(tenant_dependency(keys))]`."""

    def tenant(
        authorization: Annotated[str | None, Header()] = None,
        x_api_key: Annotated[str | None, Header()] = None,
    ) -> str:
        return keys.authenticate(_presented_key(authorization, x_api_key))

    return tenant


def optional_tenant_dependency(keys: ApiKeyStore) -> Callable[..., str | None]:
    """The caller's tenant when a valid key is presented, else None (public endpoints
    that say more to a caller they know)."""

    def tenant(
        authorization: Annotated[str | None, Header()] = None,
        x_api_key: Annotated[str | None, Header()] = None,
    ) -> str | None:
        key = _presented_key(authorization, x_api_key)
        if not key:
            return None
        try:
            return keys.authenticate(key)
        except Exception:  # Unauthorized, or the table itself is down: the caller is told by what it asked for
            return None

    return tenant


def operator_dependency(keys: ApiKeyStore) -> Callable[..., None]:
    """The dependency of the operator's routes: an operator key (`courier keys create
    --operator`), never a tenant's (403) nor none (401)."""

    def operator(
        authorization: Annotated[str | None, Header()] = None,
        x_api_key: Annotated[str | None, Header()] = None,
    ) -> None:
        keys.authenticate_operator(_presented_key(authorization, x_api_key))

    return operator
