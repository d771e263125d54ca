"""A tenant's allowed hosts: where its `http.request` jobs may send requests.

Empty until the tenant says otherwise (`PUT /v1/allowed-hosts`), so a leaked API key cannot
turn Courier into a relay to anywhere. Entries are host names, or `*.example.com` for any
subdomain; the network policy still refuses private and internal addresses behind them.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from courier.dynamodb import Table, from_item, to_item
from courier.errors import InvalidInput
from courier.jobs.models import utc_now
from courier.jobs.table import ALLOWED_HOSTS_SK, tenant_pk

MAX_HOSTS = 100
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_HOST = re.compile(rf"^(\*\.)?{_LABEL}(\.{_LABEL})*(:\d{{1,5}})?$")


def normalise(entry: str) -> str:
    host = entry.strip().lower().rstrip(".")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise InvalidInput(f"{entry!r} is not a host name", code="invalid_host") from None
    if not _HOST.match(host):
        raise InvalidInput(f"{entry!r} is not a host name (give names like app.example.com or *.example.com)", code="invalid_host")
    return host


def host_allowed(url: str, allowed: list[str]) -> bool:
    """An entry without a port allows any port; `*.example.com` allows its subdomains only."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    for entry in allowed:
        name, _, port = entry.partition(":")
        if port and int(port) != parts.port:
            continue
        if host == name or (name.startswith("*.") and host.endswith(name[1:])):
            return True
    return False


class AllowedHosts(Table):
    def get(self, tenant_id: str) -> list[str]:
        response = self.client.get_item(TableName=self.table_name, Key=_key(tenant_id), ConsistentRead=True)
        return list(json.loads(from_item(response["Item"])["hosts"])) if "Item" in response else []

    def replace(self, tenant_id: str, hosts: list[str]) -> list[str]:
        cleaned = sorted({normalise(h) for h in hosts})
        if len(cleaned) > MAX_HOSTS:
            raise InvalidInput(f"at most {MAX_HOSTS} allowed hosts", code="too_many_hosts")
        item = {**_key(tenant_id), **to_item({"hosts": json.dumps(cleaned), "tenantId": tenant_id, "updatedAt": utc_now()})}
        self.client.put_item(TableName=self.table_name, Item=item)
        return cleaned

    def require(self, tenant_id: str, url: str) -> None:
        if not host_allowed(url, self.get(tenant_id)):
            host = urlsplit(url).netloc or url
            raise InvalidInput(
                f"{host} is not one of your allowed hosts (PUT /v1/allowed-hosts)", code="host_not_allowed", status=403,
            )


def _key(tenant_id: str) -> dict[str, Any]:
    return to_item({"pk": tenant_pk(tenant_id), "sk": ALLOWED_HOSTS_SK})
