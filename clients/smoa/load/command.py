"""`smoa load`: its arguments, and the run they describe, from connecting to writing the report.

Open loop, 20 requests/s for a minute after 5 s of warmup, against every orchestrator replica:
``smoa --target dns:///orchestrator:50051 load --rate 20 --duration 60s --warmup 5s -n 4 -k 2``.
Closed loop, 8 at a time, streamed, with a goodput objective, JSON and a plot:
``smoa load --concurrency 8 --requests 500 --stream --slo-ttft-ms 800 --json run.json --plot run.png``.
The same through the OpenAI-compatible gateway (same engine, same report):
``smoa load --http http://127.0.0.1:8000 --concurrency 8 --requests 500 --stream``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from smoa.connection import TLS
from smoa.load.calls import Orchestrator
from smoa.load.gateway_wire import gateway_url
from smoa.load.histogram import LatencyHistogram, MissingExtra
from smoa.load.report import format_summary, summary_json
from smoa.load.runner import Run
from smoa.load.sample import sample_json
from smoa.load.schedule import KINDS, Arrivals
from smoa.load.shape import DEFAULT_QUESTION, RequestShape, read_questions
from smoa.load.slo import Slo
from smoa.load.summary import summarize
from smoa.load.window import Window
from smoa.option_flags import add_option_flags, options_from

if TYPE_CHECKING:
    from smoa.load.gateway_calls import Gateway

_SPAN = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m)?$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, None: 1.0}


def seconds(text: str) -> float:
    """'10', '10s', '500ms', '2m' -> seconds."""
    match = _SPAN.match(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (try 10, 10s, 500ms, 2m)")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def warmup(text: str) -> tuple[float, int]:
    """'20' -> 20 requests; '3s' (or ms, m) -> 3 seconds."""
    if text.strip().isdigit():
        return 0.0, int(text)
    return seconds(text), 0


def http_url(text: str) -> str:
    try:
        return gateway_url(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


SCHEDULE_SEED = ("seed",)


def add_arguments(p: argparse.ArgumentParser) -> None:
    where = p.add_mutually_exclusive_group()
    # The top-level --target also works; given here it wins.
    where.add_argument("--target", default=argparse.SUPPRESS, help="orchestrator address (dns:/// ok)")
    where.add_argument(
        "--http",
        type=http_url,
        metavar="URL",
        help="load the OpenAI-compatible gateway instead: POST URL/v1/chat/completions (/v1 optional)",
    )
    loop = p.add_argument_group("load").add_mutually_exclusive_group()
    loop.add_argument("--rate", type=float, help="open loop: requests per second (arrivals follow --arrival)")
    loop.add_argument("--concurrency", type=int, help="closed loop: requests in flight (default 1)")
    p.add_argument("--arrival", choices=KINDS, default="poisson", help="gaps between open-loop arrivals")
    p.add_argument("--burstiness", type=float, default=1.0, help="gamma: coefficient of variation of gaps")
    p.add_argument("--ramp-up", type=seconds, default=0.0, help="open loop: rate rises linearly over this")
    p.add_argument("--seed", type=int, default=0, help="seed of the arrival schedule")
    bound = p.add_mutually_exclusive_group()
    bound.add_argument("--duration", type=seconds, help="measured time, after the warmup (default 10s)")
    bound.add_argument("--requests", type=int, help="measured requests, after the warmup")
    p.add_argument(
        "--warmup", type=warmup, default=(0.0, 0), help="excluded from stats: N requests, or e.g. 5s"
    )
    p.add_argument(
        "--max-in-flight", type=int, default=1000, help="open loop: beyond this, requests are dropped"
    )
    p.add_argument("--timeout", type=float, default=600.0, help="deadline of each request, seconds")
    # What each request asks for: every GenerateOptions flag but --seed, which seeds the schedule here.
    add_option_flags(p.add_argument_group("the requests"), leave_out=SCHEDULE_SEED)
    p.add_argument("--stream", action="store_true", help="GenerateStream: measure time to first token too")
    p.add_argument("--question", action="append", help="asked in turn (repeatable)")
    p.add_argument("--questions-file", type=Path, help="one question per line, asked in turn")
    p.add_argument("--slo-latency-ms", type=float, help="goodput: end-to-end latency objective")
    p.add_argument("--slo-ttft-ms", type=float, help="goodput: time-to-first-token objective (streams)")
    p.add_argument("--json", type=Path, metavar="PATH", help="also write the summary as JSON")
    p.add_argument("--plot", type=Path, metavar="PATH", help="also write a PNG latency plot")
    p.add_argument(
        "--samples",
        type=Path,
        metavar="PATH",
        help="also write every request as a JSON line (when due, sent, done, status, degraded stages)",
    )
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="live progress on stderr (default: when stderr is a terminal)",
    )


def register(subparsers: Any) -> None:
    """Adds `load` to the `smoa` command line."""
    p = subparsers.add_parser("load", help="load-test a deployment: open or closed loop, HDR latency report")
    add_arguments(p)
    p.set_defaults(run=run)


def shape_from(args: argparse.Namespace) -> RequestShape:
    questions = list(args.question or [])
    if args.questions_file:
        questions += read_questions(args.questions_file)
    options = options_from(args, leave_out=SCHEDULE_SEED)
    return RequestShape(questions=questions or [DEFAULT_QUESTION], options=options, stream=args.stream)


def window_from(args: argparse.Namespace) -> Window:
    warmup_seconds, warmup_requests = args.warmup
    duration = args.duration if args.duration is not None or args.requests is not None else 10.0
    return Window(duration, args.requests, warmup_seconds, warmup_requests)


def describe(args: argparse.Namespace, shape: RequestShape) -> str:
    if args.rate is not None:
        loop = f"open loop {args.rate:g}/s {args.arrival}"
        if args.arrival == "gamma":
            loop += f" (CV {args.burstiness:g})"
        if args.ramp_up:
            loop += f", ramp-up {args.ramp_up:g}s"
    else:
        loop = f"closed loop, concurrency {args.concurrency or 1}"
    bound = f"{args.requests} requests" if args.requests else f"{args.duration or 10.0:g}s"
    if args.http:
        call, where = "POST /v1/chat/completions" + (" (stream)" if shape.stream else ""), args.http
    else:
        call, where = ("GenerateStream" if shape.stream else "Generate"), args.target
    return f"smoa load: {call} mode {shape.mode} against {where}, {loop}, {bound}"


async def run_load(args: argparse.Namespace, shape: RequestShape, window: Window, err: TextIO) -> Run:
    from smoa.load.progress import show_progress

    # The top-level --tls / --ca-file / --cert / --key and SMOA_TOKEN, as `smoa ask` takes them.
    tls: TLS | bool = getattr(args, "tls", False)
    if getattr(args, "ca_file", None) or getattr(args, "cert", None):
        tls = TLS(args.ca_file, args.cert, args.key)
    token = os.environ.get("SMOA_TOKEN") or None
    calls: Orchestrator | Gateway
    if args.http:
        from smoa.load.gateway_calls import Gateway  # httpx2, the load extra: only for --http

        # A connection for every request that can be in flight: the closed loop's, or the open loop's cap.
        in_flight = args.max_in_flight if args.rate is not None else args.concurrency or 1
        calls = Gateway(args.http, args.timeout, tls, token, connections=in_flight)
    else:
        calls = Orchestrator(args.target, args.timeout, tls, token)
    async with calls:
        run = Run(calls.sender(shape.stream), shape.request, window)
        total = f"{args.requests} req" if args.requests else f"{window.duration:g}s"
        showing = args.progress if args.progress is not None else err.isatty()
        progress = asyncio.create_task(show_progress(run, total, err)) if showing else None
        try:
            if args.rate is not None:
                arrivals = Arrivals(args.rate, args.arrival, args.burstiness, args.ramp_up)
                await run.open_loop(arrivals, args.max_in_flight, args.seed)
            else:
                await run.closed_loop(args.concurrency or 1)
            return run
        finally:
            if progress is not None:
                progress.cancel()
                await asyncio.gather(progress, return_exceptions=True)


def run(args: argparse.Namespace, out: TextIO) -> int:
    """0 when every measured request succeeded, 1 otherwise, 2 for bad arguments or missing extras."""
    err = sys.stderr
    try:
        shape, window = shape_from(args), window_from(args)
        if args.rate is not None:
            Arrivals(args.rate, args.arrival, args.burstiness, args.ramp_up)  # validates before connecting
        slo = Slo(args.slo_latency_ms, args.slo_ttft_ms)
        # Missing extras fail here, before any request is sent.
        LatencyHistogram()
        if args.plot:
            from smoa.load.plot import require_matplotlib

            require_matplotlib()
        title = describe(args, shape)
        print(title, file=err, flush=True)
        run = asyncio.run(run_load(args, shape, window, err))
        samples = run.samples
        summary = summarize(samples, slo)
        out.write(format_summary(summary))
        if args.json:
            args.json.write_text(json.dumps({"run": title, **summary_json(summary)}, indent=2) + "\n")
        if args.samples:
            started = run.counters.started_epoch
            args.samples.write_text("".join(json.dumps(sample_json(s, started)) + "\n" for s in samples))
        if args.plot:
            from smoa.load.plot import write_plot

            write_plot(samples, summary.latency, args.plot, title)
    except (ValueError, MissingExtra, OSError) as e:
        print(f"smoa load: {e}", file=err)
        return 2
    return 0 if summary.count and summary.statuses.get("OK", 0) == summary.count else 1
