"""A QStash-compatible server for offline development and tests.

The official SDKs work against it unchanged (`QSTASH_URL`, `QSTASH_TOKEN` and the
signing keys default to those of Upstash's own dev server); all state is in SQLite, so
it survives restarts and crashes.
"""

from devstack.qstash.server import QStashServer, ServerConfig
from devstack.qstash.signing import DEV_CURRENT_SIGNING_KEY, DEV_NEXT_SIGNING_KEY, DEV_TOKEN

__all__ = ["QStashServer", "ServerConfig", "DEV_TOKEN", "DEV_CURRENT_SIGNING_KEY", "DEV_NEXT_SIGNING_KEY"]
