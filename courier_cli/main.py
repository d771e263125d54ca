"""`courier`: `keys`, `doctor`, `new worker`, `video analyze FILE` and `dev up|down|status`.

Runs with the caller's AWS credentials (AWS_PROFILE, AWS_REGION; AWS_ENDPOINT_URL points
it at the local stack) and finds a deployment by its stack's outputs.
"""

from __future__ import annotations

import argparse
import sys

from courier_cli import doctor, keys, scaffold


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["dev"]:
        from devstack.cli import main as dev_main

        return dev_main(argv[1:])
    parser = argparse.ArgumentParser(prog="courier", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    keys.add_parser(commands)
    doctor.add_parser(commands)
    scaffold.add_parser(commands)
    commands.add_parser("dev", help="the local stack: up, down, status")
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
        from courier_cli.video import run

        return run(args.file, as_json=args.json, out=args.out, max_keyframes=args.max_keyframes, sample_every=args.sample_every, analyze_frames=args.analysis)
    if args.command == "doctor":
        return doctor.run(args)
    if args.command == "new":
        return scaffold.run(args)
    return keys.run(args)


if __name__ == "__main__":
    sys.exit(main())
