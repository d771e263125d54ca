"""`courier sources list|create|show|rotate|deliveries|delete`: a tenant's inbound webhook
sources (a provider's deliveries verified, answered at once and made jobs) and what each
delivery became. The secret is read from an environment variable or stdin, never a flag
(a flag would sit in the shell's history)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any
from urllib.parse import quote

from courier_cli.api import Api
from courier_cli.output import OK, USAGE, CliError, Output, local_time

COLUMNS = ("source", "name", "provider", "target", "url")
PROVIDERS = ("meta", "stripe", "github", "shopify", "standard", "generic")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    sources = commands.add_parser("sources", help="inbound webhook sources: create, list, rotate a secret, deliveries")
    actions = sources.add_subparsers(dest="action", required=True)
    actions.add_parser("list", parents=[common], help="your sources, newest first")
    create = actions.add_parser("create", parents=[common], help="a source: its URL is what you give the provider")
    create.add_argument("name", help="a label (the app or account it is for)")
    create.add_argument("--provider", required=True, choices=PROVIDERS, help="whose signature its deliveries carry")
    create.add_argument("--secret-env", default="COURIER_SOURCE_SECRET",
                        help="the environment variable holding the provider's signing secret (default: COURIER_SOURCE_SECRET; '-' reads stdin)")
    create.add_argument("--verify-token", help="meta: the token Meta's subscription handshake sends")
    create.add_argument("--type", default="http.request", help="the job type a delivery becomes (default: http.request)")
    create.add_argument("--target-url", help="http.request: your app's endpoint, on a host you allowed (PUT /v1/allowed-hosts)")
    create.add_argument("--input", help="the job's input as JSON, '{{webhook}}' standing for the delivery (default: the delivery as `webhook`)")
    create.add_argument("--signature-header", help="generic: the header with the hex HMAC-SHA256 of the body")
    create.add_argument("--id-header", help="generic: the header with the delivery's id")
    for name, text in (("show", "one source"), ("deliveries", "its recent deliveries: accepted, duplicate, refused and why"),
                       ("delete", "delete it (its deliveries are refused from then on)")):
        actions.add_parser(name, parents=[common], help=text).add_argument("source_id", help="the source's id (src_...)")
    rotate = actions.add_parser("rotate", parents=[common], help="a new secret; the previous stays valid for --overlap seconds")
    rotate.add_argument("source_id", help="the source's id (src_...)")
    rotate.add_argument("--secret-env", default="COURIER_SOURCE_SECRET", help="as for create")
    rotate.add_argument("--overlap", type=int, default=86400, help="seconds the previous secret stays valid (default 86400)")


def secret(variable: str) -> str:
    value = sys.stdin.readline().strip() if variable == "-" else os.environ.get(variable, "")
    if not value:
        raise CliError("no_secret", f"put the provider's signing secret in ${variable} (or pass --secret-env - and type it)", USAGE)
    return value


def target(args: argparse.Namespace) -> dict[str, Any]:
    if args.input:
        try:
            template = json.loads(args.input)
        except ValueError as error:
            raise CliError("invalid_input", f"--input is not JSON: {error}", USAGE) from None
    elif args.type == "http.request":
        if not args.target_url:
            raise CliError("no_url", "an http.request source needs --target-url (your app's endpoint)", USAGE)
        template = {"url": args.target_url, "json": "{{webhook}}"}
    else:
        template = {"webhook": "{{webhook}}"}
    return {"type": args.type, "input": template}


def row(source: dict[str, Any]) -> list[Any]:
    return [source["sourceId"], source["name"], source["provider"], source["target"]["type"], source["url"]]


def run(api: Api, out: Output, args: argparse.Namespace) -> int:
    if args.action == "list":
        found = api.get("/v1/sources")
        out.table(found, [row(s) for s in found["sources"]], COLUMNS, empty="no sources")
        return OK
    if args.action == "create":
        body = {"name": args.name, "provider": args.provider, "secret": secret(args.secret_env), "target": target(args),
                **{k: v for k, v in (("verifyToken", args.verify_token), ("signatureHeader", args.signature_header),
                                     ("idHeader", args.id_header)) if v}}
        created = api.post("/v1/sources", json=body)
        out.table(created, [row(created)], COLUMNS, empty="", title="give the provider this URL")
        return OK
    path = f"/v1/sources/{quote(args.source_id, safe='')}"
    if args.action == "delete":
        out.data(api.delete(path), f"deleted {args.source_id}")
    elif args.action == "rotate":
        rotated = api.post(f"{path}/secret", json={"secret": secret(args.secret_env), "overlapSeconds": args.overlap})
        out.table(rotated, [row(rotated)], COLUMNS, empty="", title=f"{len(rotated['secrets'])} secret(s) valid")
    elif args.action == "deliveries":
        found = api.get(f"{path}/deliveries")
        rows = [[local_time(d["receivedAt"]), d["verdict"], d["status"], d.get("eventType") or "-", d.get("deliveryId") or "-",
                 d.get("jobId") or (d.get("error") or {}).get("code", "-")] for d in found["deliveries"]]
        out.table(found, rows, ("received", "verdict", "status", "event", "delivery", "job or why"), empty="no deliveries yet")
    else:
        source = api.get(path)
        out.table(source, [row(source)], COLUMNS, empty="")
    return OK
