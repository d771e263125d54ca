"""A tenant's webhook sources: which provider signs, with which secrets, and which job a
delivery becomes. One item per source (`SOURCE#{id}` / `SOURCE`), listed per tenant through
the tenant index on a partition of their own (`TENANT#{t}#SOURCES`).

Secrets are sealed (courier.inbound.sealing) and only ever opened to verify a delivery.
Rotating one keeps the previous secrets valid for a stated overlap, so a provider's
deliveries signed with either verify while it switches.
"""

from __future__ import annotations

import secrets as random
import time
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from courier.cached import Cached, forget, scope
from courier.dynamodb import Table, attr, expressions, from_item, key, to_item
from courier.errors import InvalidInput, NotFound
from courier.inbound.sealing import Sealer
from courier.jobs.models import utc_now
from courier.jobs.table import GSI_KEYS, GSI_TENANT, SOURCE_SK, source_pk, tenant_sources_pk

Provider = Literal["meta", "stripe", "github", "shopify", "standard", "generic"]
MAX_SOURCES = 50
#: The longest a rotated-out secret stays valid.
MAX_OVERLAP_SECONDS = 7 * 24 * 3600
#: How long a warm function keeps a source (and its opened secrets): a rotation or a
#: deletion takes effect everywhere within it.
CACHE_SECONDS = 60.0
_HEADER = r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$"


class Target(BaseModel):
    """The job a delivery becomes: its type, and its input, where a string that is exactly
    `{{webhook}}` (or `{{webhook.body}}`, `{{webhook.eventType}}`, ...) is the delivery."""

    model_config = ConfigDict(extra="forbid")
    type: str = Field(min_length=1, max_length=64, examples=["http.request"])
    input: dict[str, Any] = Field(default_factory=lambda: {"webhook": "{{webhook}}"},
                                  examples=[{"url": "https://app.example.com/hooks/instagram", "json": "{{webhook}}"}])


class SourceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    provider: Provider
    secret: str = Field(min_length=1, max_length=512, description="the provider's signing secret (Meta: the app secret)")
    verifyToken: str | None = Field(None, min_length=1, max_length=256, description="Meta: the token its subscription handshake sends")
    signatureHeader: str | None = Field(None, pattern=_HEADER, description="generic: the header with the hex HMAC-SHA256 of the body")
    idHeader: str | None = Field(None, pattern=_HEADER, description="generic: the header with the delivery's id (else the body's hash)")
    target: Target

    @model_validator(mode="after")
    def _provider_fields(self) -> SourceRequest:
        if self.provider == "meta" and not self.verifyToken:
            raise ValueError("a meta source needs verifyToken, for Meta's subscription handshake")
        if self.provider != "generic" and (self.signatureHeader or self.idHeader):
            raise ValueError("signatureHeader and idHeader are for generic sources")
        return self


class SecretRotation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    secret: str = Field(min_length=1, max_length=512)
    overlapSeconds: int = Field(86400, ge=0, le=MAX_OVERLAP_SECONDS, description="how long the previous secrets stay valid")


class Source(BaseModel):
    """As stored: secrets sealed, each with the time it stops being valid (None: current)."""

    source_id: str
    tenant_id: str
    name: str
    provider: Provider
    target: Target
    created_at: str
    sealed_secrets: list[tuple[str, float | None]]
    sealed_verify_token: str | None = None
    signature_header: str | None = None
    id_header: str | None = None

    def context(self) -> dict[str, str]:
        return {"courier:tenant": self.tenant_id, "courier:source": self.source_id}

    def view(self, public_api_url: str) -> SourceView:
        """What the API shows: never a secret."""
        return SourceView(sourceId=self.source_id, name=self.name, provider=self.provider, target=self.target,
                          url=f"{public_api_url}/v1/inbound/{self.source_id}", createdAt=self.created_at,
                          secrets=[SecretView(validUntil=_iso(until)) for _, until in self.sealed_secrets],
                          signatureHeader=self.signature_header, idHeader=self.id_header)


class SecretView(BaseModel):
    #: When a rotated-out secret stops verifying (None: the current one).
    validUntil: str | None = None


class SourceView(BaseModel):
    sourceId: str
    name: str
    provider: Provider
    target: Target
    #: Where the provider sends its webhooks (no API key: its signature is the credential).
    url: str
    createdAt: str
    secrets: list[SecretView]
    signatureHeader: str | None = None
    idHeader: str | None = None


class SourceList(BaseModel):
    sources: list[SourceView]


class Opened(BaseModel):
    """A source with its secrets open, as verifying needs it (held in memory only)."""

    source: Source
    secrets: tuple[str, ...]
    verify_token: str | None


class SourceStore(Table):
    def __init__(self, table_name: str, sealer: Sealer, *, client: Any = None) -> None:
        super().__init__(table_name, client=client)
        self.sealer = sealer
        self.opened = Cached(self._open, scope("sources", table_name), CACHE_SECONDS)

    def create(self, tenant_id: str, request: SourceRequest) -> Source:
        if self.count(tenant_id) >= MAX_SOURCES:
            raise InvalidInput(f"a tenant has at most {MAX_SOURCES} sources; delete one first", code="too_many_sources", status=409)
        source_id = "src_" + random.token_hex(12)
        context = {"courier:tenant": tenant_id, "courier:source": source_id}
        source = Source(
            source_id=source_id, tenant_id=tenant_id, name=request.name, provider=request.provider, target=request.target,
            created_at=utc_now(), sealed_secrets=[(self.sealer.seal(request.secret, context), None)],
            sealed_verify_token=self.sealer.seal(request.verifyToken, context) if request.verifyToken else None,
            signature_header=request.signatureHeader, id_header=request.idHeader,
        )
        self.client.put_item(TableName=self.table_name, Item=_item(source), **expressions(condition=attr("pk").not_exists()))
        return source

    def get(self, source_id: str) -> Source | None:
        response = self.client.get_item(TableName=self.table_name, Key=_key(source_id), ConsistentRead=True)
        return Source.model_validate_json(from_item(response["Item"])["source"]) if "Item" in response else None

    def get_for_tenant(self, tenant_id: str, source_id: str) -> Source:
        found = self.get(source_id)
        if found is None or found.tenant_id != tenant_id:  # another tenant's source does not exist for you
            raise NotFound(f"source {source_id} not found", code="source_not_found")
        return found

    def list(self, tenant_id: str) -> list[Source]:
        request: dict[str, Any] = {"TableName": self.table_name, "IndexName": GSI_TENANT, "ScanIndexForward": False,
                                   **expressions(key=key(GSI_KEYS[GSI_TENANT][0]).eq(tenant_sources_pk(tenant_id)))}
        return [Source.model_validate_json(from_item(item)["source"]) for item in self.query_all(request)]

    def count(self, tenant_id: str) -> int:
        return len(self.list(tenant_id))

    def delete(self, tenant_id: str, source_id: str) -> None:
        self.get_for_tenant(tenant_id, source_id)
        self.client.delete_item(TableName=self.table_name, Key=_key(source_id))
        forget(scope("sources", self.table_name), source_id)

    def rotate(self, tenant_id: str, source_id: str, rotation: SecretRotation) -> Source:
        """The new secret becomes current; the others stay valid `overlapSeconds` more (at
        most: one already ending sooner keeps its end), and ended ones are dropped."""
        source = self.get_for_tenant(tenant_id, source_id)
        now = time.time()
        kept = [(sealed, min(until, now + rotation.overlapSeconds) if until is not None else now + rotation.overlapSeconds)
                for sealed, until in source.sealed_secrets if until is None or until > now]
        updated = source.model_copy(update={"sealed_secrets": [*[s for s in kept if s[1] > now], (self.sealer.seal(rotation.secret, source.context()), None)]})
        self.client.put_item(TableName=self.table_name, Item=_item(updated))
        forget(scope("sources", self.table_name), source_id)
        return updated

    def _open(self, source_id: str) -> Opened | None:
        source = self.get(source_id)
        if source is None:
            return None
        now = time.time()
        secrets = tuple(self.sealer.open(sealed, source.context()) for sealed, until in source.sealed_secrets if until is None or until > now)
        token = self.sealer.open(source.sealed_verify_token, source.context()) if source.sealed_verify_token else None
        return Opened(source=source, secrets=secrets, verify_token=token)


def _key(source_id: str) -> dict[str, Any]:
    return to_item({"pk": source_pk(source_id), "sk": SOURCE_SK})


def _item(source: Source) -> dict[str, Any]:
    partition, sort = GSI_KEYS[GSI_TENANT]
    return {**_key(source.source_id), **to_item({"source": source.model_dump_json(), "tenantId": source.tenant_id,
                                                 partition: tenant_sources_pk(source.tenant_id), sort: f"{source.created_at}#{source.source_id}"})}


def _iso(moment: float | None) -> str | None:
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds").replace("+00:00", "Z") if moment else None
