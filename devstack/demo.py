"""`make demo`: a video through the real pipeline on this machine, offline.

Starts the local stack (unless it runs), makes a sample video (ffmpeg from the
imageio-ffmpeg wheel), creates an API key, asks the jobs API for a presigned upload
URL and uploads to it, enqueues `video.analyze`, follows the job, prints the result and
saves the keyframes to a local folder. On a terminal it then keeps the stack running
until Ctrl-C; otherwise (CI, scripts) it exits, non-zero if the job did not succeed.

When it starts the stack and no model is configured (AZURE_AI_FOUNDRY_ENDPOINT,
COURIER_AI_CATALOG), the fake OpenAI-compatible server stands in for every deployment, so
the analysis step runs too; its captions are a stand-in's, and the output says so.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from devstack.cli import down, read_state, up
from devstack.environment import MODEL_PASSTHROUGH, DevSettings, aws_environment
from devstack.keys import DEMO_TENANT, kept_key
from devstack.model_server import ModelServer
from devstack.sample_video import render

SHOTS = [2.5, 1.5, 3.0, 2.0, 3.0]
TERMINAL = ("succeeded", "failed", "dead", "cancelled")


def sample_video(directory: Path) -> tuple[Path, list[float]]:
    path = directory / "sample-720x1280.mp4"
    cuts = [round(sum(SHOTS[:i]), 3) for i in range(1, len(SHOTS))]
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        render(path, SHOTS, width=720, height=1280, flashes=(5.5,))
    return path, cuts


def follow(api: httpx.Client, job_id: str, *, tty: bool, timeout: float = 600) -> dict[str, Any]:
    spinner = itertools.cycle("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏")
    began = time.monotonic()
    last = None
    while True:
        job = api.get(f"/v1/jobs/{job_id}").json()
        line = f"{job['status']} (attempt {job.get('attempts', 0)}, via {job.get('transport')})"
        if tty:
            sys.stdout.write(f"\r{next(spinner)} {line} {time.monotonic() - began:5.1f} s ")
            sys.stdout.flush()
        elif line != last:
            print(f"  {time.monotonic() - began:5.1f} s  {line}", flush=True)
        last = line
        if job["status"] in TERMINAL:
            if tty:
                sys.stdout.write("\n")
            return dict(job)
        if time.monotonic() - began > timeout:
            raise SystemExit(f"the job did not finish within {timeout:.0f} s (still {job['status']})")
        time.sleep(0.2)


def show(job: dict[str, Any], expected_cuts: list[float], out: Path, bucket: str) -> None:
    import boto3

    result = job["result"]
    video, metrics = result["video"], result["metrics"]
    print(f"\nvideo     {video['width']}x{video['height']} {video['codec']} {video['fps']:g} fps, {video['duration']:.1f} s")
    found = ", ".join(f"{c['time']:.2f}s" for c in result["cuts"])
    made = ", ".join(f"{t:.2f}s" for t in expected_cuts)
    print(f"cuts      {found}   (made at {made})")
    print(f"shots     {metrics['shots']}, {metrics['cutsPerMinute']} cuts/min, shot length median {metrics['shotLength']['median']} s")
    print(f"hook      {metrics['hookScore']}/100 (first 3 seconds)")
    analysis = result["analysis"]
    print(f"analysis  {analysis['status']}" + (f" ({analysis['reason']})" if "reason" in analysis else ""))
    if analysis.get("captions"):
        deployments = sorted({c.get("deployment", "?") for c in analysis["captions"]})
        print(f"captions  {len(analysis['captions'])} by {', '.join(deployments)}; summary: {analysis.get('summary', {}).get('text', '-')[:100]}")
    steps = ", ".join(f"{s['name']} ({s['status']}, {s['attempts']} attempt{'s' if s['attempts'] != 1 else ''})" for s in job.get("steps", []))
    print(f"steps     {steps or '-'}")
    print(f"transport {job['transport']}, {job['attempts']} attempt(s), {result['processing']['seconds']} s of processing")
    out.mkdir(parents=True, exist_ok=True)
    s3 = boto3.client("s3")
    for keyframe in result["keyframes"]:
        target = out / Path(keyframe["image"]).name
        target.write_bytes(s3.get_object(Bucket=bucket, Key=keyframe["image"])["Body"].read())
    print(f"keyframes {len(result['keyframes'])} JPEGs in {out}/")


def farewell(state: dict[str, Any], settings: DevSettings, *, stays: bool) -> str:
    """Where to look next: the stack's addresses while it keeps running; otherwise (a script's
    demo that started the stack stops it) only what outlives it, and how to keep one."""
    urls = state["urls"]
    if not stays:
        return (f"\nlogs      {state['logs']}/\nThe local stack stops with this demo, which started it. To keep one running: make dev"
                " (then make demo uses it, and the console is at /console on its API).")
    return (f"\nconsole   {urls['api']}/console (sign in with the API key below)"
            f"\nAPI docs  {urls['docs']}\nQStash    {urls['qstash']}\nAWS       {urls['aws']}\nlogs      {state['logs']}/"
            f"\nAPI key   {settings.api_key_file}")


def run(settings: DevSettings, out: Path, tty: bool) -> int:
    started_here = read_state(settings) is None
    stand_in = _stand_in_models() if started_here else None
    state = up(settings)
    os.environ.update(aws_environment(settings))
    try:
        path, cuts = sample_video(settings.directory / "demo")
        # The demo tenant's key, which the stack made as it started (made again if it was lost).
        key = kept_key(settings.api_key_file, state["resources"]["table"], DEMO_TENANT, "the local stack's demo key")
        with httpx.Client(base_url=state["urls"]["api"], headers={"Authorization": f"Bearer {key}"}, timeout=60) as api:
            data = path.read_bytes()
            upload = api.post("/v1/uploads", json={"contentType": "video/mp4", "sizeBytes": len(data), "filename": path.name})
            upload.raise_for_status()
            ticket = upload.json()
            put = httpx.put(ticket["uploadUrl"], content=data, headers=ticket["headers"], timeout=60)
            put.raise_for_status()
            print(f"uploaded  {path.name} ({len(data) / 1e6:.1f} MB) to {ticket['key']}")
            accepted = api.post("/v1/jobs", json={"type": "video.analyze", "input": {"videoKey": ticket["key"], "options": {"maxKeyframes": 8}}})
            accepted.raise_for_status()
            job_id = accepted.json()["jobId"]
            print(f"enqueued  video.analyze {job_id}")
            job = follow(api, job_id, tty=tty)
        if job["status"] != "succeeded":
            print(f"the job ended {job['status']}: {json.dumps(job.get('error'))}", file=sys.stderr)
            return 1
        show(job, cuts, out / job_id, state["resources"]["bucket"])
        print(farewell(state, settings, stays=tty or not started_here))
        if tty:
            print("\nThe stack keeps running; Ctrl-C stops it.")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                print()
        return 0
    finally:
        if started_here:
            down(settings)
        if stand_in is not None:
            stand_in.stop()


def _stand_in_models() -> ModelServer | None:
    """The fake model server for every deployment, when none is configured; the workers of
    the stack started next read its address from the environment."""
    if any(os.environ.get(name) for name in MODEL_PASSTHROUGH):
        return None
    from courier.ai.catalog import load_catalog

    server = ModelServer().start()
    names = sorted(load_catalog({"AZURE_AI_FOUNDRY_ENDPOINT": server.url}).deployments)
    os.environ["AZURE_AI_FOUNDRY_ENDPOINT"] = server.url
    os.environ["COURIER_AI_CATALOG"] = json.dumps({"deployments": [{"name": n, "keySecret": None} for n in names]})
    print(f"models    a stand-in: devstack's fake OpenAI-compatible server at {server.url} answers for every deployment"
          " (set AZURE_AI_FOUNDRY_ENDPOINT for real ones)")
    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.demo", description=__doc__.splitlines()[0])
    DevSettings.add_arguments(parser, tuning=False)
    parser.add_argument("--out", type=Path, default=Path("demo-output"))
    args = parser.parse_args(argv)
    # A closed terminal or a `kill` ends the demo like Ctrl-C: the stack it started goes too.
    for stop in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop, _interrupt)
    return run(DevSettings.from_args(args), args.out, sys.stdout.isatty())


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
