"""`courier keys create|list|revoke`: API keys in a deployment's table (only their
SHA-256 is stored; a new key is printed once)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict

from courier.auth.api_keys import ApiKeyStore
from courier.errors import CourierError
from courier_cli.stack import StackNotFound, StackOutputs, default_stack


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--stack", help=f"the deployed stack whose table to use (default: $COURIER_STACK or {default_stack()})")
    where.add_argument("--table", default=os.environ.get("TABLE_NAME"), help="the table itself (default: $TABLE_NAME, else the stack's TableName output)")
    where.add_argument("--json", action="store_true", help="machine-readable output")
    keys = commands.add_parser("keys", help="API keys: create, list, revoke")
    actions = keys.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", parents=[where], help="a new key for a tenant; the key is printed once")
    create.add_argument("--tenant", required=True)
    create.add_argument("--name", default="")
    listing = actions.add_parser("list", parents=[where], help="keys (never the keys themselves)")
    listing.add_argument("--tenant")
    revoke = actions.add_parser("revoke", parents=[where], help="revoke a key by its id")
    revoke.add_argument("key_id")


def table_name(args: argparse.Namespace) -> str:
    """--table, TABLE_NAME, or the stack's output (the stack wins when named explicitly)."""
    if args.table and not args.stack:
        return str(args.table)
    return StackOutputs.read(args.stack or default_stack()).table_name


def run(args: argparse.Namespace) -> int:
    try:
        store = ApiKeyStore(table_name(args))
        if args.action == "create":
            record, secret = store.create(args.tenant, args.name)
            _print(args.json, {**asdict(record), "apiKey": secret}, f"{record.key_id} for tenant {record.tenant_id}: {secret}\n(shown once; store it now)")
        elif args.action == "list":
            found = store.list(args.tenant)
            lines = "\n".join(f"{k.key_id}  {k.tenant_id:<20} {'revoked' if k.revoked else 'active ':<8} {k.created_at}  {k.name}" for k in found)
            _print(args.json, [asdict(k) for k in found], lines or "no keys")
        else:
            record = store.revoke(args.key_id)
            _print(args.json, asdict(record), f"revoked {record.key_id} ({record.tenant_id})")
    except StackNotFound as error:
        print(f"courier: {error}", file=sys.stderr)
        return 2
    except (CourierError, ValueError) as error:
        print(f"courier: {getattr(error, 'message', error)}", file=sys.stderr)
        return 1
    return 0


def _print(as_json: bool, data: object, text: str) -> None:
    print(json.dumps(data, indent=2) if as_json else text)
