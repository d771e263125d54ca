"""`courier`: jobs, schedules, dead letters, keys, cost, doctor, video, new worker, dev.

Against the local stack by default; `--url` and `--key` (or COURIER_API_URL and
COURIER_API_KEY) for any deployment's HTTP API, `--stack` for a deployed stack by its
outputs with the caller's AWS credentials (AWS_PROFILE, AWS_REGION). `--json` on every
command. Exit codes: 0 done, 1 refused or failed, 2 usage or configuration, 3 the job
ended without succeeding, 4 gave up waiting.
"""

from __future__ import annotations

import argparse
import sys

from courier_cli import cost, dlq, doctor, jobs, keys, scaffold, schedules, target
from courier_cli.output import CliError, Output


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="courier", description=__doc__.splitlines()[0],
                                   epilog="\n".join(__doc__.splitlines()[2:]), formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = root.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    target.add_arguments(common)
    common.add_argument("--json", action="store_true", help="the answer as JSON (errors too, on stderr)")
    jobs.add_parser(commands, common)
    schedules.add_parser(commands, common)
    dlq.add_parser(commands, common)
    keys.add_parser(commands, common)
    cost.add_parser(commands)
    doctor.add_parser(commands)
    scaffold.add_parser(commands)
    commands.add_parser("dev", help="the local stack: up, down, status, env")
    video = commands.add_parser("video", help="video analysis of a file: here (no AWS), or on a deployment with --remote")
    video_actions = video.add_subparsers(dest="action", required=True)
    analyze = video_actions.add_parser("analyze", parents=[common], help="cuts, keyframes and metrics of a video file")
    analyze.add_argument("file")
    analyze.add_argument("--out", help="folder for keyframe JPEGs (default: <name>-keyframes)")
    analyze.add_argument("--max-keyframes", type=int, default=24)
    analyze.add_argument("--sample-every", type=float, default=5.0, help="seconds between extra keyframes in long shots")
    analyze.add_argument("--analysis", action=argparse.BooleanOptionalAction, default=None,
                         help="caption keyframes with the AI router's vision model (default: when one is configured)")
    analyze.add_argument("--remote", action="store_true", help="upload it and run a video.analyze job on the deployment; keyframes downloaded")
    return root


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["dev"]:
        from devstack.cli import main as dev_main

        return dev_main(argv[1:])
    args = parser().parse_args(argv)
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
    if args.command == "doctor":
        return doctor.run(args)
    if args.command == "new":
        return scaffold.run(args)
    if args.command == "keys":
        return keys.run(args)
    if args.command == "cost":
        return cost.run(args)
    where = target.resolve(args)
    if args.command == "dlq":
        return dlq.run(where, out, args)
    from courier_cli.api import Api

    api = Api(where)
    return jobs.run(api, out, args) if args.command == "jobs" else schedules.run(api, out, args)


if __name__ == "__main__":
    sys.exit(main())
