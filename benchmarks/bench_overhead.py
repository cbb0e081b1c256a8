"""What smoa itself costs per request, against the same LLM calls made directly: the four services as
separate processes on this machine, every LLM call answered at once by smoa_testing's instant_server, so
latency and CPU are orchestration (gRPC hops, prompt building, dedup, judging logic, HTTP to the LLM
endpoint) and nothing else.

    .venv/bin/python benchmarks/bench_overhead.py [--quick] [--rounds N] [--json PATH] [--profile DIR]

Request: SMOA, n=4, k=2, max_layers=2, explicit roles (no role-writing call), judge and moderator as
separate calls (the whole call graph; fused is the service's default). The floors (llm_floors.py) replay
the LLM calls that request made, from this process: with the openai SDK as shipped, and with raw aiohttp.
Each round measures smoa and then each floor, in turn (the machine is noisy): latency one request at a
time, then throughput and CPU per request with closed-loop clients (smoa at rising concurrency; the floors
at TARGET_CONCURRENCY). The targets are ratios to the floors, PASS or MISS. --profile then records every
service with py-spy under smoa's load at TARGET_CONCURRENCY (after the rounds: the sampling costs CPU);
benchmarks/profile_summary.py reads the profiles.
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
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import llm_floors
from release_core import require_release_core

from smoa.v1 import common_pb2, orchestrator_pb2, orchestrator_pb2_grpc

HERE = Path(__file__).resolve().parent
# smoa against the openai-SDK floor: p50 and CPU per request at most this many times the floor's; CPU at most
# STRETCH_RAW times the raw-aiohttp floor's; and this many requests a second at TARGET_CONCURRENCY.
TARGET_VS_SDK = 1.0
STRETCH_VS_RAW = 3.0
TARGET_RPS = 150.0
TARGET_CONCURRENCY = 32
SERVICES = ("orchestrator", "proposer", "judge", "moderator")
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


def launch(name: str, command: list[str], env: dict[str, str], logs: Path | None = None) -> Process:
    """`logs`: a folder for the process's stderr (NAME.log); else it is dropped."""
    stderr = (logs / f"{name}.log").open("ab") if logs else subprocess.DEVNULL
    popen = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True, env=env)
    assert popen.stdout is not None
    line = popen.stdout.readline()
    match = re.search(r"listening on [\d.]+:(\d+)", line)
    if not match:
        popen.kill()
        raise RuntimeError(f"{name} did not start: {line!r}")
    return Process(name, popen, int(match.group(1)))


def clean_environment() -> dict[str, str]:
    """This process's environment without smoa's or OpenTelemetry's settings: every benchmark sets its own."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "SMOA_"))}


def start_services(
    llm: Process,
    settings: Mapping[str, str],
    orchestrator_env: Mapping[str, str] | None = None,
    logs: Path | None = None,
) -> list[Process]:
    """`llm` and the four services started against it, each with `settings` (SMOA_*), the orchestrator also
    with `orchestrator_env`; the orchestrator last."""
    env = clean_environment() | {"SMOA_LLM_BASE_URL": f"http://127.0.0.1:{llm.port}/v1", "SMOA_PORT": "0"}
    env |= settings
    started = [llm]
    for name in ("proposer", "judge", "moderator"):
        started.append(launch(name, [sys.executable, "-m", f"smoa_services.{name}"], env, logs))
    env |= {f"SMOA_{p.name.upper()}_TARGET": f"dns:///127.0.0.1:{p.port}" for p in started[1:]}
    orchestrator = [sys.executable, "-m", "smoa_services.orchestrator"]
    started.append(launch("orchestrator", orchestrator, env | dict(orchestrator_env or {}), logs))
    return started


def start_deployment(record: Path | None = None) -> list[Process]:
    """The instant LLM and the four services; `record`: where the LLM keeps the first calls' bodies."""
    recording = ["--record", str(record)] if record else []
    instant = [sys.executable, "-m", "smoa_testing.fake_llm.instant_server", "--port", "0", *recording]
    settings = {
        "SMOA_LLM_MAX_RETRIES": "0",
        "SMOA_LLM_CONCURRENCY": "64",
        "SMOA_MAX_CONCURRENT_RPCS": "1024",
    }
    return start_services(launch("instant-llm", instant, clean_environment()), settings)


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


async def latency(call: Call, count: int) -> dict[str, Any]:
    """One request at a time."""
    samples: list[float] = []
    for _ in range(count):
        timed = await call()
        if timed is None:
            raise RuntimeError("a request failed while measuring latency")
        samples.append(timed[1] * 1000)
    return stats(samples)


# One call of a benchmarked path: None when it failed, else (seconds to the first token or the answer,
# seconds in all).
Call = Callable[[], Awaitable[tuple[float, float] | None]]


def replay_call(replay: llm_floors.Replay) -> Call:
    async def call() -> tuple[float, float] | None:
        started = time.perf_counter()
        await replay()
        took = time.perf_counter() - started
        return took, took

    return call


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
    call: Call, concurrency: int, seconds: float, processes: list[Process]
) -> dict[str, Any]:
    """Closed-loop clients; CPU per request of every process, and of this one ("client")."""

    def cpu() -> dict[str, float]:
        return {p.name: cpu_seconds(p.popen.pid) for p in processes} | {"client": time.process_time()}

    before = cpu()
    answered, errors, elapsed, samples = await closed_loop(call, concurrency, seconds)
    after = cpu()
    samples.sort()
    return {
        "concurrency": concurrency,
        "requests": answered,
        "errors": errors,
        "rps": answered / elapsed,
        "p50_ms": percentile(samples, 0.50) if samples else None,
        "p99_ms": percentile(samples, 0.99) if samples else None,
        "cpu_ms_per_request": {n: (after[n] - before[n]) * 1000 / max(1, answered) for n in before},
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def profile(processes: list[Process], seconds: float, out: Path) -> list[subprocess.Popen[bytes]]:
    """py-spy recording each of `processes` for `seconds`, into OUT/NAME.speedscope.json."""
    out.mkdir(parents=True, exist_ok=True)
    py_spy = str(Path(sys.executable).parent / "py-spy")
    record = [py_spy, "record", "--format", "speedscope", "--nonblocking", "--duration", str(int(seconds))]
    return [
        subprocess.Popen(
            [*record, "--pid", str(p.popen.pid), "--output", str(out / f"{p.name}.speedscope.json")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for p in processes
    ]


async def run(args: argparse.Namespace, record: Path) -> dict[str, Any]:
    processes = start_deployment(record)
    seconds = 3.0 if args.quick else 10.0
    count = 30 if args.quick else 300
    levels = [4, TARGET_CONCURRENCY] if args.quick else [4, 16, TARGET_CONCURRENCY, 64]
    rounds: list[dict[str, Any]] = []
    try:
        base_url = f"http://127.0.0.1:{processes[0].port}/v1"
        async with grpc.aio.insecure_channel(f"127.0.0.1:{processes[-1].port}") as channel:
            stub = orchestrator_pb2_grpc.OrchestratorServiceStub(channel)
            first = await stub.Generate(request(), timeout=30)
            shape = {
                "llm_calls": first.cost.total.calls,
                "layers": len(first.layers),
                "stop_reason": common_pb2.StopReason.Name(first.stop_reason),
            }
            stages = llm_floors.stages(record, first.cost.total.calls)
            shape["stages"] = [len(stage) for stage in stages]
            smoa = generate_call(stub)
            await latency(smoa, count // 10)  # warm-up
            for _ in range(args.rounds):
                measured: dict[str, Any] = {"smoa": {"latency": await latency(smoa, count)}}
                measured["smoa"]["throughput"] = [
                    await throughput(smoa, c, seconds, processes) for c in levels
                ]
                for name, floor in (
                    ("openai_sdk", llm_floors.openai_sdk),
                    ("raw_aiohttp", llm_floors.raw_aiohttp),
                ):
                    async with floor(base_url, stages) as replay:
                        call = replay_call(replay)
                        await latency(call, count // 10)  # warm-up
                        measured[name] = {
                            "latency": await latency(call, count),
                            "throughput": [await throughput(call, TARGET_CONCURRENCY, seconds, processes)],
                        }
                rounds.append(measured)
            if args.profile:  # after the rounds: py-spy's sampling takes CPU the figures must not lose
                recorders = profile([p for p in processes if p.name in SERVICES], seconds, args.profile)
                await throughput(smoa, TARGET_CONCURRENCY, seconds, processes)
                for r in recorders:
                    r.wait(seconds + 30)
    finally:
        stop_deployment(processes)
    return {"shape": shape, "rounds": rounds}


def at_target(measured: dict[str, Any]) -> dict[str, Any]:
    return next(t for t in measured["throughput"] if t["concurrency"] == TARGET_CONCURRENCY)


def figures(rounds: list[dict[str, Any]]) -> dict[str, float]:
    """The compared figures, each the mean over the rounds: p50 and CPU per request (smoa: its four
    services; a floor: its client) at TARGET_CONCURRENCY, and smoa's requests a second there."""

    def mean(pick: Callable[[dict[str, Any]], float]) -> float:
        return statistics.fmean(pick(r) for r in rounds)

    def cpu(system: str) -> Callable[[dict[str, Any]], float]:
        names = SERVICES if system == "smoa" else ("client",)
        return lambda r: sum(at_target(r[system])["cpu_ms_per_request"][n] for n in names)

    def p50(system: str) -> Callable[[dict[str, Any]], float]:
        return lambda r: float(r[system]["latency"]["p50_ms"])

    systems = ("smoa", "openai_sdk", "raw_aiohttp")
    found = {f"{s}_p50_ms": mean(p50(s)) for s in systems} | {f"{s}_cpu_ms": mean(cpu(s)) for s in systems}
    found["smoa_rps"] = mean(lambda r: at_target(r["smoa"])["rps"])
    found["smoa_errors"] = sum(at_target(r["smoa"])["errors"] for r in rounds)
    return found


def report(result: dict[str, Any]) -> list[str]:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "?")
    machine = f"{cpu} · {os.cpu_count()} cores · Python {platform.python_version()}"
    shape = result["shape"]
    lines = [
        "# smoa orchestration overhead against the same LLM calls made directly (instant LLM endpoint)",
        f"   {time.strftime('%Y-%m-%d %H:%M')} · {machine}",
        f"   request: SMOA n=4 k=2 max_layers=2 -> {shape['layers']} layers, {shape['llm_calls']} LLM calls "
        f"in stages of {shape['stages']}, stop {shape['stop_reason']}",
    ]
    for index, measured in enumerate(result["rounds"], 1):
        lines += ["", f"## round {index}: one request at a time (p50 / p99 ms), then closed-loop clients"]
        for system, numbers in measured.items():
            lat = numbers["latency"]
            lines.append(f"   {system:<12} p50 {lat['p50_ms']:6.1f} · p99 {lat['p99_ms']:6.1f}")
            for t in numbers["throughput"]:
                spent = {n: ms for n, ms in t["cpu_ms_per_request"].items() if ms >= 0.05}
                lines.append(
                    f"      concurrency {t['concurrency']:>3}: {t['rps']:6.1f} req/s · {t['errors']} errors"
                    f" · p50 {t['p50_ms'] or 0:7.1f} ms · CPU ms/request "
                    + ", ".join(f"{n} {ms:.1f}" for n, ms in sorted(spent.items(), key=lambda kv: -kv[1]))
                )
    f = figures(result["rounds"])
    result["figures"] = f

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "MISS"

    p50_ratio = f["smoa_p50_ms"] / f["openai_sdk_p50_ms"]
    cpu_ratio = f["smoa_cpu_ms"] / f["openai_sdk_cpu_ms"]
    raw_ratio = f["smoa_cpu_ms"] / f["raw_aiohttp_cpu_ms"]
    lines += [
        "",
        f"## targets (means of {len(result['rounds'])} rounds; CPU at concurrency {TARGET_CONCURRENCY}: "
        "smoa's four services against a floor's one process)",
        f"   p50: smoa {f['smoa_p50_ms']:.1f} ms / openai SDK {f['openai_sdk_p50_ms']:.1f} ms = "
        f"{p50_ratio:.2f}x (<= {TARGET_VS_SDK:.1f}x) {verdict(p50_ratio <= TARGET_VS_SDK)}",
        f"   CPU: smoa {f['smoa_cpu_ms']:.1f} ms / openai SDK {f['openai_sdk_cpu_ms']:.1f} ms = "
        f"{cpu_ratio:.2f}x (<= {TARGET_VS_SDK:.1f}x) {verdict(cpu_ratio <= TARGET_VS_SDK)}",
        f"   CPU (stretch): smoa / raw aiohttp {f['raw_aiohttp_cpu_ms']:.1f} ms = {raw_ratio:.2f}x "
        f"(<= {STRETCH_VS_RAW:.0f}x) {verdict(raw_ratio <= STRETCH_VS_RAW)}",
        f"   throughput: {f['smoa_rps']:.1f} req/s at concurrency {TARGET_CONCURRENCY}, "
        f"{f['smoa_errors']:.0f} errors (>= {TARGET_RPS:.0f}, 0 errors) "
        f"{verdict(f['smoa_rps'] >= TARGET_RPS and f['smoa_errors'] == 0)}",
    ]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run, not a measurement")
    parser.add_argument("--rounds", type=int, default=2, help="smoa and the floors, in turn, this many times")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    parser.add_argument("--profile", type=Path, metavar="DIR", help="py-spy speedscope profiles into DIR")
    args = parser.parse_args()
    if args.quick:
        args.rounds = 1
    else:
        require_release_core()
    with tempfile.TemporaryDirectory() as scratch:
        result = asyncio.run(run(args, Path(scratch) / "calls.jsonl"))
    print("\n".join(report(result)))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
