"""python -m devstack.qstash [--host H] [--port P] [--db PATH] [--backoff-scale F]"""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path

from devstack.qstash.server import QStashServer, ServerConfig
from devstack.qstash.signing import DEV_CURRENT_SIGNING_KEY, DEV_NEXT_SIGNING_KEY, DEV_TOKEN


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack.qstash", description="QStash-compatible local server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--db", type=Path, default=Path(".devstack/qstash.sqlite3"))
    parser.add_argument("--backoff-scale", type=float, default=1.0, help="multiplies every retry delay (1.0 = QStash's timing)")
    args = parser.parse_args(argv)
    config = ServerConfig(
        host=args.host,
        port=args.port,
        db=args.db,
        backoff_scale=args.backoff_scale,
        token=os.environ.get("QSTASH_TOKEN", DEV_TOKEN),
        current_signing_key=os.environ.get("QSTASH_CURRENT_SIGNING_KEY", DEV_CURRENT_SIGNING_KEY),
        next_signing_key=os.environ.get("QSTASH_NEXT_SIGNING_KEY", DEV_NEXT_SIGNING_KEY),
    )
    server = QStashServer(config)
    print(f"QStash server on {server.url} (db {config.db}, backoff x{config.backoff_scale:g})", flush=True)
    try:
        asyncio.run(server.serve())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
