"""`courier keys create|list|revoke`: API keys in a deployment's table (only their
SHA-256 is stored; a new key is printed once)."""

from __future__ import annotations

import argparse
import os
from typing import Any

from courier.auth.api_keys import ApiKey, ApiKeyStore
from courier.errors import CourierError
from courier_cli.output import OK, USAGE, CliError, Output
from courier_cli.target import add_arguments, find_deployment


def table_arguments() -> argparse.ArgumentParser:
    """Which deployment's table, for the commands that work it with the operator's AWS
    credentials (`keys`, `tenants`). Not `common`: there `--tenant` is the tenant a command
    acts as; here it names the tenant a command works on."""
    where = argparse.ArgumentParser(add_help=False)
    add_arguments(where, acting_as=False)
    where.add_argument("--json", action="store_true", help="the answer as JSON (errors too, on stderr)")
    where.add_argument("--table", default=os.environ.get("TABLE_NAME"), help="the table itself (default: $TABLE_NAME, else the deployment's)")
    return where


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    where = table_arguments()
    keys = commands.add_parser("keys", help="API keys: create, list, revoke")
    actions = keys.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", parents=[where], help="a new key for a tenant; the key is printed once")
    create.add_argument("--tenant", help="the tenant the key acts as (letters, digits, - and _)")
    create.add_argument("--operator", action="store_true", help="an operator's key instead: no tenant; only the operator's routes (a tenant's limits) take it")
    create.add_argument("--name", default="", help="a label to tell keys apart (the app using it)")
    listing = actions.add_parser("list", parents=[where], help="keys (never the keys themselves)")
    listing.add_argument("--tenant", help="only this tenant's keys")
    revoke = actions.add_parser("revoke", parents=[where], help="revoke a key by its id")
    revoke.add_argument("key_id", help="the key's id (key_..., from keys list), not the key itself")


def table_name(args: argparse.Namespace) -> str:
    """--table (or TABLE_NAME) unless a stack is named; else the deployment's table."""
    if args.table and not args.stack:
        return str(args.table)
    return find_deployment(args).table_name


def shown(key: ApiKey) -> dict[str, Any]:
    """A key's record in `--json`, named as the API names things (camelCase)."""
    return {"keyId": key.key_id, "tenantId": None if key.operator else key.tenant_id, "name": key.name, "createdAt": key.created_at,
            "revoked": key.revoked, "operator": key.operator}


def run(args: argparse.Namespace) -> int:
    out = Output(args.json)
    try:
        store = ApiKeyStore(table_name(args))
        if args.action == "create":
            if bool(args.tenant) == args.operator:
                raise CliError("usage", "give --tenant for a tenant's key, or --operator for an operator's", USAGE)
            record, secret = store.create(args.tenant, args.name, operator=args.operator)
            whose = "operator key" if record.operator else f"for tenant {record.tenant_id}"
            out.data({**shown(record), "apiKey": secret}, f"{record.key_id} {whose}: {secret}\n(shown once; store it now)")
        elif args.action == "list":
            found = store.list(args.tenant)
            rows = [[k.key_id, "(operator)" if k.operator else k.tenant_id, "revoked" if k.revoked else "active", k.created_at, k.name] for k in found]
            out.table([shown(k) for k in found], rows, ("key", "tenant", "state", "created", "name"), empty="no keys")
        else:
            record = store.revoke(args.key_id)
            out.data(shown(record), f"revoked {record.key_id} ({record.tenant_id})")
    except (CourierError, ValueError) as error:
        raise CliError(getattr(error, "code", "invalid"), str(getattr(error, "message", error))) from None
    return OK
