"""How many streaming requests one orchestrator process holds at once, and what each costs it: the four
services as processes, every LLM call answered by smoa_testing's faulty_server after --llm-seconds (no
faults), and N GenerateStream calls opened together from this process, at rising N.

    .venv/bin/python benchmarks/bench_scale.py [--levels 250,500,1000,2000] [--repeat 3] [--llm-seconds 2]

Request: SMOA n=4 k=2 max_layers=1, streamed (the service's fused judge; SINGLE with --single). For each
level: errors, the most requests the orchestrator had in flight at once (its smoa.rpc.server.in_flight),
its RSS before, at the peak and after (RSS per in-flight request = peak minus before, over the requests),
and its event-loop lag while it held them (smoa.process.loop_lag, read from its Prometheus endpoint as
bucket bounds: "<= 0.05" means under 50 ms). The top level runs --repeat times, so growth of RSS across
runs shows. Targets: 2,000 held, 0 errors, loop lag p99 <= 50 ms, RSS flat across the repeats.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import grpc
from bench_overhead import ROLES, Process, clean_environment, launch, start_services, stop_deployment

from smoa.v1 import common_pb2, orchestrator_pb2, orchestrator_pb2_grpc

TARGET_HELD = 2000
TARGET_LAG_P99 = 0.05


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start(llm_seconds: float, metrics_port: int, logs: Path | None) -> list[Process]:
    faulty = [sys.executable, "-m", "smoa_testing.fake_llm.faulty_server", "--port", "0"]
    llm = launch("llm", [*faulty, "--latency-seconds", f"{llm_seconds}"], clean_environment(), logs)
    # Limits far above the levels: what is measured is what the process holds, not where it refuses.
    settings = {
        "SMOA_LLM_CONCURRENCY": "16384",
        "SMOA_MAX_CONCURRENT_RPCS": "16384",
        "SMOA_MAX_PROPOSERS_IN_FLIGHT_PER_CALLER": "65536",
        "SMOA_MAX_GENERATION_SECONDS": "600",
    }
    metrics = {"OTEL_METRICS_EXPORTER": "prometheus", "OTEL_EXPORTER_PROMETHEUS_PORT": str(metrics_port)}
    return start_services(llm, settings, metrics, logs)


def request(single: bool) -> orchestrator_pb2.GenerateRequest:
    return orchestrator_pb2.GenerateRequest(
        messages=[common_pb2.ChatMessage(role=common_pb2.CHAT_ROLE_USER, content="What is 6 times 7?")],
        mode=orchestrator_pb2.MODE_SINGLE if single else orchestrator_pb2.MODE_SMOA,
        n=4,
        k=2,
        max_layers=1,
        roles=orchestrator_pb2.Roles(roles=ROLES),
        model=common_pb2.ModelSettings(max_tokens=64),
        seed=1,
    )


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def scrape(port: int) -> tuple[float, dict[float, float]]:
    """(requests in flight, loop-lag histogram as cumulative counts by upper bound) from the orchestrator."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    in_flight = sum(float(v) for v in re.findall(r"^smoa_rpc_server_in_flight\S*\s+(\S+)$", text, re.M))
    buckets: dict[float, float] = {}
    for bound, value in re.findall(
        r'^smoa_process_loop_lag_seconds_bucket\{[^}]*le="([^"]+)"[^}]*\}\s+(\S+)$', text, re.M
    ):
        buckets[float(bound)] = buckets.get(float(bound), 0.0) + float(value)
    return in_flight, buckets


def quantile(before: dict[float, float], after: dict[float, float], q: float) -> float:
    """The upper bound of the bucket holding quantile q of what was recorded between two scrapes."""
    counts = sorted((bound, after.get(bound, 0.0) - before.get(bound, 0.0)) for bound in after)
    total = counts[-1][1] if counts else 0.0
    for bound, cumulative in counts:
        if total and cumulative >= q * total:
            return bound
    return float("nan")


async def level(
    channel: grpc.aio.Channel, orchestrator: Process, metrics_port: int, count: int, single: bool
) -> dict[str, Any]:
    stub = orchestrator_pb2_grpc.OrchestratorServiceStub(channel)
    req = request(single)
    pid = orchestrator.popen.pid
    before_rss = rss_mb(pid)
    _, lag_before = scrape(metrics_port)
    errors: list[str] = []

    async def one() -> None:
        try:
            async for _ in stub.GenerateStream(req, timeout=600):
                pass
        except grpc.aio.AioRpcError as e:
            errors.append(f"{e.code().name}: {e.details()}")

    started = time.perf_counter()
    calls = [asyncio.ensure_future(one()) for _ in range(count)]
    peak_rss, held = before_rss, 0.0
    while not all(c.done() for c in calls):
        await asyncio.sleep(0.25)
        peak_rss = max(peak_rss, rss_mb(pid))
        in_flight, _ = await asyncio.to_thread(scrape, metrics_port)
        held = max(held, in_flight)
    took = time.perf_counter() - started
    await asyncio.sleep(1.0)  # what the requests left behind is freed or is not
    _, lag_after = scrape(metrics_port)
    return {
        "requests": count,
        "errors": len(errors),
        "first_errors": sorted(set(errors))[:3],
        "held": held,
        "seconds": took,
        "rss_before_mb": before_rss,
        "rss_peak_mb": peak_rss,
        "rss_after_mb": rss_mb(pid),
        "kb_per_request": (peak_rss - before_rss) * 1024 / max(1.0, held),
        "lag_p50_s": quantile(lag_before, lag_after, 0.50),
        "lag_p99_s": quantile(lag_before, lag_after, 0.99),
    }


async def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    metrics_port = free_port()
    if args.logs:
        args.logs.mkdir(parents=True, exist_ok=True)
    processes = start(args.llm_seconds, metrics_port, args.logs)
    results = []
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{processes[-1].port}") as channel:
            await level(channel, processes[-1], metrics_port, 10, args.single)  # warm-up
            for count in args.levels:
                for _ in range(args.repeat if count == args.levels[-1] else 1):
                    results.append(await level(channel, processes[-1], metrics_port, count, args.single))
                    print(report_line(results[-1]), flush=True)
    finally:
        stop_deployment(processes)
    return results


def report_line(r: dict[str, Any]) -> str:
    rss = f"RSS {r['rss_before_mb']:.0f} -> {r['rss_peak_mb']:.0f} -> {r['rss_after_mb']:.0f} MB"
    lag = f"loop lag p50 <= {r['lag_p50_s']} s, p99 <= {r['lag_p99_s']} s"
    return (
        f"   {r['requests']:>5} requests: held {r['held']:>5.0f} · {r['errors']} errors · "
        f"{r['seconds']:5.1f} s · {rss} ({r['kb_per_request']:.0f} KB a request) · {lag}"
        + (f" · {r['first_errors']}" if r["errors"] else "")
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--levels", default="250,500,1000,2000", type=lambda s: [int(x) for x in s.split(",")]
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--llm-seconds", type=float, default=2.0)
    parser.add_argument("--single", action="store_true", help="SINGLE mode instead of SMoA")
    parser.add_argument("--logs", type=Path, help="keep each process's log in this folder")
    args = parser.parse_args()
    mode = "SINGLE" if args.single else "SMOA n=4 k=2 max_layers=1"
    print(f"# one orchestrator holding streamed requests ({mode}; every LLM call {args.llm_seconds} s)")
    print(f"   {time.strftime('%Y-%m-%d %H:%M')} · {os.cpu_count()} cores")
    results = asyncio.run(run(args))
    top = [r for r in results if r["requests"] == args.levels[-1]]
    ok = [r for r in results if r["errors"] == 0 and r["lag_p99_s"] <= TARGET_LAG_P99]
    largest = max((r["held"] for r in ok), default=0)
    growth = top[-1]["rss_after_mb"] - top[0]["rss_after_mb"] if len(top) > 1 else 0.0
    print(
        f"## largest held with 0 errors and loop lag p99 <= {TARGET_LAG_P99 * 1000:.0f} ms: {largest:.0f} "
        f"(target {TARGET_HELD}) {'PASS' if largest >= TARGET_HELD else 'MISS'} · RSS after the {len(top)} "
        f"runs of {args.levels[-1]}: "
        + " -> ".join(f"{r['rss_after_mb']:.0f}" for r in top)
        + f" MB ({growth:+.0f})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
