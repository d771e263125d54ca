"""`courier`: the command line: API keys (`courier keys create|list|revoke`), video
analysis of local files (`courier video analyze FILE`) and, in a checkout of the repo,
the local stack (`courier dev up|down|status`).

Runs with the caller's AWS credentials against the table named by --table or TABLE_NAME
(AWS_ENDPOINT_URL points it at the local stack).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict

from courier.auth.api_keys import ApiKeyStore
from courier.errors import CourierError


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["dev"]:
        return _dev(argv[1:])
    parser = argparse.ArgumentParser(prog="courier")
    commands = parser.add_subparsers(dest="command", required=True)
    keys = commands.add_parser("keys", help="API keys: create, list, revoke")
    keys.add_argument("--table", default=os.environ.get("TABLE_NAME"), help="the jobs table (default: $TABLE_NAME)")
    actions = keys.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="a new key for a tenant; the key is printed once")
    create.add_argument("--tenant", required=True)
    create.add_argument("--name", default="")
    listing = actions.add_parser("list", help="keys (never the keys themselves)")
    listing.add_argument("--tenant")
    revoke = actions.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")
    for sub in (create, listing, revoke):
        sub.add_argument("--json", action="store_true", help="machine-readable output")
    commands.add_parser("dev", help="the local stack: up, down, status (in a checkout of the repo)")
    video = commands.add_parser("video", help="video analysis on local files (no AWS)")
    video_actions = video.add_subparsers(dest="action", required=True)
    analyze = video_actions.add_parser("analyze", help="cuts, keyframes and metrics of a video file")
    analyze.add_argument("file")
    analyze.add_argument("--json", action="store_true", help="print the full result as JSON")
    analyze.add_argument("--out", help="folder for keyframe JPEGs (default: <name>-keyframes)")
    analyze.add_argument("--max-keyframes", type=int, default=24)
    analyze.add_argument("--sample-every", type=float, default=5.0, help="seconds between extra keyframes in long shots")
    analyze.add_argument("--analysis", action=argparse.BooleanOptionalAction, default=None,
                         help="caption keyframes with the AI router's vision model (default: when one is configured)")
    args = parser.parse_args(argv)

    if args.command == "video":
        from courier.video.cli import run

        return run(args.file, as_json=args.json, out=args.out, max_keyframes=args.max_keyframes, sample_every=args.sample_every, analyze_frames=args.analysis)

    if not args.table:
        parser.error("no table: pass --table or set TABLE_NAME")
    store = ApiKeyStore(args.table)
    try:
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
    except (CourierError, ValueError) as error:
        print(f"courier: {getattr(error, 'message', error)}", file=sys.stderr)
        return 1
    return 0


def _print(as_json: bool, data: object, text: str) -> None:
    print(json.dumps(data, indent=2) if as_json else text)


if __name__ == "__main__":
    sys.exit(main())


def _dev(argv: list[str]) -> int:
    """The local stack lives in the repository (devstack/), not in the shipped library."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[4]
    if not (root / "devstack" / "supervisor.py").is_file():
        print("courier dev: needs a checkout of the Courier repository", file=sys.stderr)
        return 2
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from devstack.cli import main as dev_main

    return dev_main(argv)
