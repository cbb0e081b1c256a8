"""What smoa itself costs per request: the four services as separate processes on this machine, every LLM
call answered at once by benchmarks/instant_llm.py, so latency is orchestration (gRPC hops, prompt
building, dedup, judging logic, HTTP to the LLM endpoint) and nothing else.

    .venv/bin/python benchmarks/bench_overhead.py [--quick] [--json PATH] [--profile DIR]

Request: SMOA, n=4, k=2, max_layers=2, explicit roles (no role-writing call), judge and moderator as
separate calls (the whole call graph, as in the committed figures; fused is the service's default).
Latency is measured one request at a time (the overhead a request sees); throughput with closed-loop
clients at rising concurrency (the most requests per second the machine sustains). --profile records the
orchestrator and one proposer with py-spy during the throughput phase.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from release_core import require_release_core

from smoa.v1 import common_pb2, orchestrator_pb2, orchestrator_pb2_grpc

HERE = Path(__file__).resolve().parent
TARGET_P50_MS = 10.0
TARGET_RPS = 150.0
ROLES = [
    "You are a careful mathematician.",
    "You are a pragmatic engineer.",
    "You are a skeptical reviewer.",
    "You are a patient teacher.",
]


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[str]
    port: int


def launch(name: str, command: list[str], env: dict[str, str]) -> Process:
    popen = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    assert popen.stdout is not None
    line = popen.stdout.readline()
    match = re.search(r"listening on [\d.]+:(\d+)", line)
    if not match:
        popen.kill()
        raise RuntimeError(f"{name} did not start: {line!r}")
    return Process(name, popen, int(match.group(1)))


def start_deployment() -> list[Process]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "SMOA_"))}
    llm = launch(
        "instant-llm", [sys.executable, "-m", "smoa_testing.fake_llm.instant_server", "--port", "0"], env
    )
    env |= {
        "SMOA_LLM_BASE_URL": f"http://127.0.0.1:{llm.port}/v1",
        "SMOA_LLM_MAX_RETRIES": "0",
        "SMOA_LLM_CONCURRENCY": "64",
        "SMOA_MAX_CONCURRENT_RPCS": "1024",
        "SMOA_PORT": "0",
    }
    started = [llm]
    for name in ("proposer", "judge", "moderator"):
        started.append(launch(name, [sys.executable, "-m", f"smoa_services.{name}"], env))
    targets = {f"SMOA_{p.name.upper()}_TARGET": f"dns:///127.0.0.1:{p.port}" for p in started[1:]}
    started.append(
        launch("orchestrator", [sys.executable, "-m", "smoa_services.orchestrator"], env | targets)
    )
    return started


def stop_deployment(processes: list[Process]) -> None:
    for p in reversed(processes):
        p.popen.send_signal(signal.SIGTERM)
    for p in processes:
        try:
            p.popen.wait(15)
        except subprocess.TimeoutExpired:
            p.popen.kill()


def request() -> orchestrator_pb2.GenerateRequest:
    return orchestrator_pb2.GenerateRequest(
        messages=[common_pb2.ChatMessage(role=common_pb2.CHAT_ROLE_USER, content="What is 6 times 7?")],
        mode=orchestrator_pb2.MODE_SMOA,
        n=4,
        k=2,
        max_layers=2,
        roles=orchestrator_pb2.Roles(roles=ROLES),
        model=common_pb2.ModelSettings(max_tokens=64),
        seed=1,
        fused_judge_moderator=False,
    )


def percentile(sorted_ms: list[float], q: float) -> float:
    return sorted_ms[min(len(sorted_ms) - 1, max(0, round(q * len(sorted_ms)) - 1))]


def stats(samples_ms: list[float]) -> dict[str, Any]:
    ordered = sorted(samples_ms)
    return {
        "requests": len(ordered),
        "p50_ms": percentile(ordered, 0.50),
        "p90_ms": percentile(ordered, 0.90),
        "p99_ms": percentile(ordered, 0.99),
        "mean_ms": statistics.fmean(ordered),
        "min_ms": ordered[0],
    }


async def latency(stub: orchestrator_pb2_grpc.OrchestratorServiceAsyncStub, count: int) -> dict[str, Any]:
    req = request()
    samples: list[float] = []
    for _ in range(count):
        started = time.perf_counter()
        await stub.Generate(req, timeout=30)
        samples.append((time.perf_counter() - started) * 1000)
    return stats(samples)


# One call of a benchmarked path: None when it failed, else (seconds to the first token or the answer,
# seconds in all).
Call = Callable[[], Awaitable[tuple[float, float] | None]]


def generate_call(stub: orchestrator_pb2_grpc.OrchestratorServiceAsyncStub) -> Call:
    req = request()

    async def call() -> tuple[float, float] | None:
        started = time.perf_counter()
        try:
            await stub.Generate(req, timeout=30)
        except grpc.aio.AioRpcError:
            return None
        took = time.perf_counter() - started
        return took, took

    return call


async def closed_loop(call: Call, concurrency: int, seconds: float) -> tuple[int, int, float, list[float]]:
    """(answered, failed, elapsed seconds, latencies ms) of `concurrency` clients for `seconds`."""
    answered: list[float] = []
    failed = 0
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal failed
        while time.perf_counter() < deadline:
            timed = await call()
            if timed is None:
                failed += 1
            else:
                answered.append(timed[1] * 1000)

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return len(answered), failed, time.perf_counter() - began, answered


async def throughput(
    stub: orchestrator_pb2_grpc.OrchestratorServiceAsyncStub, concurrency: int, seconds: float
) -> dict[str, Any]:
    answered, errors, elapsed, samples = await closed_loop(generate_call(stub), concurrency, seconds)
    samples.sort()
    return {
        "concurrency": concurrency,
        "requests": answered,
        "errors": errors,
        "rps": answered / elapsed,
        "p50_ms": percentile(samples, 0.50) if samples else None,
        "p99_ms": percentile(samples, 0.99) if samples else None,
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def profile(processes: list[Process], seconds: float, out: Path) -> list[subprocess.Popen[bytes]]:
    out.mkdir(parents=True, exist_ok=True)
    recorders = []
    for p in processes:
        if p.name in ("orchestrator", "proposer"):
            recorders.append(
                subprocess.Popen(
                    [
                        str(Path(sys.executable).parent / "py-spy"),
                        "record",
                        "--pid",
                        str(p.popen.pid),
                        "--duration",
                        str(int(seconds)),
                        "--format",
                        "speedscope",
                        "--output",
                        str(out / f"{p.name}.speedscope.json"),
                        "--nonblocking",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
    return recorders


async def run(args: argparse.Namespace) -> dict[str, Any]:
    processes = start_deployment()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{processes[-1].port}") as channel:
            stub = orchestrator_pb2_grpc.OrchestratorServiceStub(channel)
            first = await stub.Generate(request(), timeout=30)
            shape = {
                "llm_calls": first.cost.total.calls,
                "layers": len(first.layers),
                "stop_reason": common_pb2.StopReason.Name(first.stop_reason),
            }
            await latency(stub, 10 if args.quick else 30)  # warm-up
            single = await latency(stub, 30 if args.quick else 300)
            seconds = 3.0 if args.quick else 10.0
            levels = [4, 16] if args.quick else [4, 16, 32, 64]
            recorders = profile(processes, seconds, args.profile) if args.profile else []
            loads = []
            for c in levels:
                before = {p.name: cpu_seconds(p.popen.pid) for p in processes} | {
                    "client": time.process_time()
                }
                loads.append(await throughput(stub, c, seconds))
                after = {p.name: cpu_seconds(p.popen.pid) for p in processes} | {
                    "client": time.process_time()
                }
                # Where the machine's CPU went, per request: which process to make cheaper.
                loads[-1]["cpu_ms_per_request"] = {
                    name: (after[name] - before[name]) * 1000 / max(1, loads[-1]["requests"])
                    for name in before
                }
            for r in recorders:
                r.wait(seconds + 30)
    finally:
        stop_deployment(processes)
    return {"shape": shape, "latency": single, "throughput": loads}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run, not a measurement")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    parser.add_argument("--profile", type=Path, metavar="DIR", help="py-spy speedscope profiles into DIR")
    args = parser.parse_args()
    if not args.quick:
        require_release_core()
    result = asyncio.run(run(args))
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "?")
    machine = f"{cpu} · {os.cpu_count()} cores · Python {platform.python_version()}"
    lat, shape = result["latency"], result["shape"]
    best = max(result["throughput"], key=lambda t: t["rps"])
    lines = [
        "# smoa orchestration overhead (instant LLM endpoint, services as separate processes)",
        f"   {time.strftime('%Y-%m-%d %H:%M')} · {machine}",
        f"   request: SMOA n=4 k=2 max_layers=2 -> {shape['layers']} layers, {shape['llm_calls']} LLM calls, "
        f"stop {shape['stop_reason']}",
        "",
        f"## one request at a time ({lat['requests']} requests)",
        f"   p50 {lat['p50_ms']:.1f} ms · p90 {lat['p90_ms']:.1f} ms · p99 {lat['p99_ms']:.1f} ms · "
        f"mean {lat['mean_ms']:.1f} ms · min {lat['min_ms']:.1f} ms",
        f"   per LLM call: {lat['p50_ms'] / shape['llm_calls']:.2f} ms of p50",
        "",
        "## closed-loop clients",
        "   concurrency   requests   errors    req/s     p50 ms     p99 ms",
    ]
    for t in result["throughput"]:
        lines.append(
            f"   {t['concurrency']:>11}   {t['requests']:>8}   {t['errors']:>6}   {t['rps']:>6.1f}   "
            f"{t['p50_ms'] or 0:>8.1f}   {t['p99_ms'] or 0:>8.1f}"
        )
    latency_verdict = "PASS" if lat["p50_ms"] <= TARGET_P50_MS else "MISS"
    rps_verdict = "PASS" if best["rps"] >= TARGET_RPS else "MISS"
    cpu = best["cpu_ms_per_request"]
    lines += [
        "",
        f"## CPU per request at concurrency {best['concurrency']} (ms): "
        + ", ".join(f"{name} {ms:.1f}" for name, ms in sorted(cpu.items(), key=lambda kv: -kv[1]))
        + f" · total {sum(cpu.values()):.1f}",
    ]
    lines += [
        "",
        f"## targets: p50 overhead <= {TARGET_P50_MS:.0f} ms: {lat['p50_ms']:.1f} ms {latency_verdict} · "
        f"throughput >= {TARGET_RPS:.0f} req/s: {best['rps']:.1f} req/s at concurrency {best['concurrency']} "
        f"{rps_verdict}",
    ]
    print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
