"""`courier`: jobs, schedules, dead letters, flow, keys, tenants, sources, cost, doctor, video, new worker, dev.

Against the local stack by default; `--url` and `--key` (or COURIER_API_URL and
COURIER_API_KEY) for any deployment's HTTP API, `--stack` for a deployed stack by its
outputs with the caller's AWS credentials (AWS_PROFILE, AWS_REGION). `--json` on every
command. Exit codes: 0 done, 1 refused or failed, 2 usage or configuration, 3 the job
ended without succeeding, 4 gave up waiting.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from types import ModuleType

from courier_cli import target
from courier_cli.output import CliError, Output

#: Each command's module, and whether its arguments take the common ones (where, --json).
#: A command loads only its own module: `courier video analyze` starts without the others'.
COMMANDS = {"jobs": ("jobs", True), "schedules": ("schedules", True), "dlq": ("dlq", True), "flow": ("flow", True), "keys": ("keys", True),
            "tenants": ("tenants", True), "sources": ("sources", True),
            "cost": ("cost", False), "doctor": ("doctor", False), "new": ("scaffold", False)}
#: Commands that find their own deployment and write their own answer: `run(args)`.
SELF_CONTAINED = {"keys", "tenants", "cost", "doctor", "new"}


def command(name: str) -> ModuleType:
    return importlib.import_module(f"courier_cli.{COMMANDS[name][0]}")


def parser(only: str | None = None) -> argparse.ArgumentParser:
    """Every command's arguments, or with `only` just that command's (and video's, and dev's)."""
    root = argparse.ArgumentParser(prog="courier", description=__doc__.splitlines()[0],
                                   epilog="\n".join(__doc__.splitlines()[2:]), formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = root.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    target.add_arguments(common)
    common.add_argument("--json", action="store_true", help="the answer as JSON (errors too, on stderr)")
    for name, (_, takes_common) in COMMANDS.items():
        if only is None or only == name:
            command(name).add_parser(*((commands, common) if takes_common else (commands,)))
    commands.add_parser("dev", help="the local stack: up, down, status, env")
    video = commands.add_parser("video", help="video analysis of a file: here (no AWS), or on a deployment with --remote")
    video_actions = video.add_subparsers(dest="action", required=True)
    analyze = video_actions.add_parser("analyze", parents=[common], help="cuts, keyframes and metrics of a video file")
    analyze.add_argument("file", help="the video file (mp4, mov, webm, ...)")
    analyze.add_argument("--out", help="folder to write the keyframe JPEGs to (default: none written)")
    analyze.add_argument("--max-keyframes", type=int, default=24, help="at most this many keyframes (default 24)")
    analyze.add_argument("--sample-every", type=float, default=5.0, help="seconds between extra keyframes in long shots")
    analyze.add_argument("--analysis", action=argparse.BooleanOptionalAction, default=None,
                         help="caption keyframes with the AI router's vision model (default: when one is configured)")
    analyze.add_argument("--remote", action="store_true", help="upload it and run a video.analyze job on the deployment (keyframes downloaded with --out)")
    return root


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["dev"]:
        from devstack.cli import main as dev_main

        return dev_main(argv[1:])
    args = parser(argv[0] if argv and (argv[0] in COMMANDS or argv[0] == "video") else None).parse_args(argv)
    out = Output(getattr(args, "json", False))
    try:
        return dispatch(args, out)
    except CliError as error:
        return out.error(error)


def dispatch(args: argparse.Namespace, out: Output) -> int:
    if args.command == "video":
        from courier_cli import video

        if args.remote:
            from courier_cli.api import Api

            return video.run_remote(Api(target.resolve(args)), args.file, as_json=args.json, out=args.out,
                                    max_keyframes=args.max_keyframes, sample_every=args.sample_every, analyze_frames=args.analysis)
        return video.run(args.file, as_json=args.json, out=args.out, max_keyframes=args.max_keyframes, sample_every=args.sample_every,
                         analyze_frames=args.analysis)
    if args.command in SELF_CONTAINED:
        return int(command(args.command).run(args))
    where = target.resolve(args)
    if args.command in ("dlq", "flow"):
        return int(command(args.command).run(where, out, args))
    from courier_cli.api import Api

    return int(command(args.command).run(Api(where), out, args))


if __name__ == "__main__":
    sys.exit(main())
