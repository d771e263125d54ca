"""API keys, stored only as SHA-256 hashes, each bound to one tenant.

A key is shown once, when it is created; the table holds its hash, a short public id
(to list and revoke it) and its tenant. An operator key (`courier keys create --operator`)
has no tenant: it is taken only by the operator's routes (a tenant's limits), and a
tenant's key never is. Lookups are cached per warm container for
CACHE_SECONDS only, so a revoked key stops working everywhere within that time.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from courier.dynamodb import Table, attr, expressions, from_item, serialize, to_item
from courier.errors import CourierError, NotFound, Unauthorized
from courier.jobs.models import utc_now
from courier.jobs.table import API_KEY_SK, api_key_pk

KEY_PREFIX = "ck_"
#: How long a warm function trusts a key it has checked: a revocation takes effect within it.
CACHE_SECONDS = 5
OPERATOR = "operator"
#: The tenant id an operator key is stored with: not a valid tenant id, so no tenant is it.
NO_TENANT = "*"
_cache: dict[str, tuple[float, str, bool]] = {}


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    tenant_id: str
    name: str
    created_at: str
    revoked: bool
    operator: bool = False


TENANT_ID_RULE = "a tenant id is 1-64 letters, digits, '-' or '_'"


def valid_tenant_id(tenant_id: str) -> bool:
    return bool(tenant_id) and tenant_id.replace("-", "").replace("_", "").isalnum() and tenant_id.isascii() and len(tenant_id) <= 64


class ApiKeyStore(Table):
    def create(self, tenant_id: str | None, name: str = "", *, operator: bool = False) -> tuple[ApiKey, str]:
        """A new key for a tenant, or an operator's (no tenant): (its record, the key itself,
        shown this once)."""
        if operator:
            tenant_id = NO_TENANT
        elif not tenant_id or not valid_tenant_id(tenant_id):
            raise ValueError(TENANT_ID_RULE)
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        digest = key_hash(secret)
        record = ApiKey(f"key_{digest[:12]}", tenant_id, name, utc_now(), False, operator)
        self.client.put_item(
            TableName=self.table_name,
            Item=to_item({
                **_key_of(digest), "keyId": record.key_id, "tenantId": tenant_id, "name": name,
                "createdAt": record.created_at, "revoked": False, **({"role": OPERATOR} if operator else {}),
            }),
            **expressions(condition=attr("pk").not_exists()),
        )
        return record, secret

    def authenticate(self, key: str | None) -> str:
        """The tenant of a valid key; Unauthorized otherwise (never says which part was
        wrong); 403 for an operator's key, which acts for no tenant."""
        tenant, operator = self._identify(key)
        if operator:
            raise CourierError("an operator key acts for no tenant: use a tenant's API key here", code="operator_key",
                               status=403, retryable=False)
        return tenant

    def authenticate_operator(self, key: str | None) -> None:
        """Passes for a valid operator key; 401 for no valid key, 403 for a tenant's."""
        if not self._identify(key)[1]:
            raise CourierError("this is an operator's route: a tenant's API key cannot use it", code="operator_only",
                               status=403, retryable=False)

    def _identify(self, key: str | None) -> tuple[str, bool]:
        if not key or not key.startswith(KEY_PREFIX):
            raise Unauthorized("a valid API key is required (Authorization: Bearer <key> or x-api-key)")
        digest = key_hash(key)
        cached = _cache.get(digest)
        if cached and cached[0] > time.monotonic():
            return cached[1], cached[2]
        found = self.client.get_item(TableName=self.table_name, Key=to_item(_key_of(digest))).get("Item")
        item = from_item(found) if found else None
        if item is None or item.get("revoked"):
            raise Unauthorized("a valid API key is required (Authorization: Bearer <key> or x-api-key)")
        tenant, operator = str(item["tenantId"]), item.get("role") == OPERATOR
        _cache[digest] = (time.monotonic() + CACHE_SECONDS, tenant, operator)
        return tenant, operator

    def list(self, tenant_id: str | None = None) -> list[ApiKey]:
        """Every key, or a tenant's (admin command: a scan; the functions never call it)."""
        keys = [_key(item) for item in self._scan()]
        return sorted((k for k in keys if tenant_id is None or k.tenant_id == tenant_id), key=lambda k: k.created_at)

    def revoke(self, key_id: str) -> ApiKey:
        items = list(self._scan(attr("keyId").eq(key_id)))
        if not items:
            raise NotFound(f"no key {key_id}")
        self.client.update_item(
            TableName=self.table_name, Key=to_item({"pk": items[0]["pk"], "sk": items[0]["sk"]}),
            UpdateExpression="SET revoked = :t", ExpressionAttributeValues={":t": serialize(True)},
        )
        _cache.clear()
        key = _key(items[0])
        return ApiKey(key.key_id, key.tenant_id, key.name, key.created_at, True, key.operator)

    def _scan(self, matching: Any = None) -> Iterator[dict[str, Any]]:
        wanted = attr("sk").eq(API_KEY_SK) if matching is None else attr("sk").eq(API_KEY_SK) & matching
        request: dict[str, Any] = {"TableName": self.table_name, **expressions(filter=wanted)}
        return (from_item(item) for item in self.scan_all(request))


def _key_of(digest: str) -> dict[str, str]:
    return {"pk": api_key_pk(digest), "sk": API_KEY_SK}


def _key(item: dict[str, Any]) -> ApiKey:
    return ApiKey(
        str(item["keyId"]), str(item["tenantId"]), str(item.get("name", "")),
        str(item["createdAt"]), bool(item.get("revoked", False)), item.get("role") == OPERATOR,
    )
