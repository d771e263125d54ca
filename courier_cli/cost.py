"""`courier cost --videos-per-day N --avg-video-seconds S [--ai-calls-per-day M]`: the
monthly bill of that workload (courier_cli.cost_model), line by line, and a table for
10 / 50 / 200 / 1,000 videos a day beside an always-on Fargate worker."""

from __future__ import annotations

import argparse
from typing import Any

from courier_cli.cost_model import Sizing, VideoFigures, Workload, load_prices, monthly
from courier_cli.output import OK, Output

SCALES = (10, 50, 200, 1000)


def _at_least(low: float, kind: type[int] | type[float], *, above: bool = False) -> Any:
    """An argparse type: a number of `kind` at least (or above) `low`, or a clear usage error."""
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value < low or (above and value == low) or value != value or value in (float("inf"), float("-inf")):
            raise argparse.ArgumentTypeError(f"{text} is not {'above' if above else 'at least'} {low:g}")
        return value
    return parse


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cost = commands.add_parser("cost", help="the monthly bill of a workload, from measured figures and list prices")
    cost.add_argument("--videos-per-day", type=_at_least(0, float), default=50, help="videos analysed a day (default 50)")
    cost.add_argument("--avg-video-seconds", type=_at_least(0, float, above=True), default=60,
                      help="their average length in seconds (default 60)")
    cost.add_argument("--ai-calls-per-day", type=_at_least(0, float), default=0, help="router calls a day (POST /v1/route)")
    cost.add_argument("--tokens-in", type=_at_least(0, int), default=1000, help="input tokens per router call (default 1000)")
    cost.add_argument("--tokens-out", type=_at_least(0, int), default=300, help="output tokens per router call (default 300)")
    cost.add_argument("--route", default="generation", help="the route whose first deployment prices the tokens")
    cost.add_argument("--markdown", action="store_true", help="the scale table as Markdown (the README's)")
    cost.add_argument("--json", action="store_true", help="the bill and the scales as JSON")


def report(args: argparse.Namespace, workers: int | None = None) -> dict[str, Any]:
    prices, video, sizing = load_prices(), VideoFigures.measured(), Sizing.of_this_deployment(args.route, workers)

    def bill(videos: float) -> dict[str, Any]:
        work = Workload(videos, args.avg_video_seconds, args.ai_calls_per_day, args.tokens_in, args.tokens_out)
        return {"videosPerDay": videos, **monthly(work, video, sizing, prices).to_dict()}

    return {
        "pricesChecked": prices["checked"], "region": prices["region"],
        "measured": {"clip": video.clip, "wallPerVideoSecond": round(video.wall_per_second, 3),
                     "cpuPerVideoSecond": round(video.cpu_per_second, 3), "peakMb": video.peak_mb},
        "sizing": {"videoMemoryMb": sizing.video_memory_mb, "model": sizing.model, "alarms": sizing.alarms},
        "workload": {"videosPerDay": args.videos_per_day, "avgVideoSeconds": args.avg_video_seconds, "aiCallsPerDay": args.ai_calls_per_day},
        "bill": bill(args.videos_per_day),
        "scales": [bill(n) for n in SCALES],
    }


def markdown(data: dict[str, Any]) -> str:
    lines = list(data["scales"][0]["lines"])
    head = ["videos / day", *lines, "Courier / month", "always-on Fargate worker"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for scale in data["scales"]:
        fargate = f"${scale['fargate']:.2f}" + (f" ({scale['fargateTasks']} tasks)" if scale["fargateTasks"] > 1 else "")
        cells = [f"{scale['videosPerDay']:,.0f}", *(f"${scale['lines'][k]:.2f}" for k in lines), f"**${scale['total']:.2f}**", fargate]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def run(args: argparse.Namespace) -> int:
    out, data = Output(args.json), report(args)
    if args.markdown:
        out.data(data, markdown(data))
        return OK
    bill, m = data["bill"], data["measured"]
    out.table(data, [[name, f"${value:.2f}"] for name, value in bill["lines"].items()] + [["total", f"${bill['total']:.2f}"]],
              ("per month", "USD"), empty="", title=f"{args.videos_per_day:g} videos a day of {args.avg_video_seconds:g} s")
    if out.as_json:
        return OK
    out.out.print(f"A video takes {bill['lambdaSecondsPerVideo']:.1f} s on a {data['sizing']['videoMemoryMb']} MB worker "
                  f"(measured: {m['cpuPerVideoSecond']} CPU s per video second, {m['peakMb']:.0f} MB peak, clip {m['clip']}); "
                  f"list prices of {data['pricesChecked']} ({data['region']}).")
    rows = [[f"{s['videosPerDay']:,.0f}", f"${s['total']:.2f}", f"${s['fargate']:.2f}", s["fargateTasks"]] for s in data["scales"]]
    out.table(data, rows, ("videos / day", "Courier / month", "Fargate worker / month", "tasks"), empty="", title="at other scales")
    return OK
