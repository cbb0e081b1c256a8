"""What the OpenAI-compatible HTTP gateway adds to a request: the same request sent straight to the
orchestrator over gRPC and through `python -m smoa_services.gateway` over HTTP, against the deployment of
bench_overhead.py (the four services as processes, every LLM call answered at once), so the difference is
the gateway's hop (JSON, HTTP/1.1, one more process) and nothing else.

    .venv/bin/python benchmarks/bench_gateway.py [--quick] [--json PATH] [--baseline DIR] [--profile DIR]

Request: SMOA, n=4, k=2, max_layers=2, explicit roles, as bench_overhead's; the HTTP body carries the same
GenerateRequest (checked through the gateway's own parser before measuring). The paths are interleaved
in rounds, their order alternating, so machine noise falls on both alike. Latency one request at a time
(gRPC Generate against a non-streamed completion; the first token of GenerateStream against a streamed
completion's); throughput with closed-loop clients at rising concurrency; then the gateway's hop alone, in
front of an orchestrator stub that answers the deployment's recorded answer at once; and every target of
issue 22 for the gateway, PASS or MISS.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import platform
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import grpc
import httpx2
from bench_overhead import (
    Call,
    Process,
    clean_environment,
    closed_loop,
    cpu_seconds,
    percentile,
    profile,
    request,
    start_deployment,
    stats,
    stop_deployment,
)
from google.protobuf import json_format
from release_core import require_release_core

from smoa.v1 import common_pb2, orchestrator_pb2, orchestrator_pb2_grpc
from smoa_services.gateway.chat_request import chat_request

# Requests per path per round in the latency phase.
ROUND = 10
# Each path's share of a throughput level, in this many segments of the order A B B A A B B A: the
# machine's throughput drifts by more than the gateway costs, and this spreads the drift over both paths.
SEGMENTS = 4
PROFILE_SECONDS = 10.0


def launch_gateway(orchestrator_port: int, checkout: Path | None = None) -> Process:
    """`python -m smoa_services.gateway` as deployed (access log included), on a port of its choosing;
    from another `checkout` of smoa, if given, with what of this environment that checkout declares (a
    checkout whose services do not name httptools runs on h11, as it was installed)."""
    env = clean_environment() | {
        "SMOA_PORT": "0",
        "SMOA_ORCHESTRATOR_TARGET": f"127.0.0.1:{orchestrator_port}",
        # Nothing balances load onto it here: stop without the readiness drain.
        "SMOA_DRAIN_DELAY_SECONDS": "0",
    }
    command = [sys.executable, "-m", "smoa_services.gateway"]
    if checkout is not None:
        env["PYTHONPATH"] = str(checkout / "services")
        hidden = (
            [] if "httptools" in (checkout / "services" / "pyproject.toml").read_text() else ["httptools"]
        )
        command[1:] = [
            "-c",
            f"import runpy, sys; sys.modules.update(dict.fromkeys({hidden!r}))\n"
            "runpy.run_module('smoa_services.gateway', run_name='__main__')",
        ]
    popen = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    log = popen.stderr
    assert log is not None

    def drain() -> None:
        # Read on, or the full pipe would block the gateway's logging and with it the gateway.
        for _ in log:
            pass

    for line in log:  # uvicorn announces the port it bound on stderr
        found = re.search(r"running on http://[\d.]+:(\d+)", line)
        if found:
            threading.Thread(target=drain, daemon=True).start()
            return Process("gateway", popen, int(found.group(1)))
    popen.kill()
    raise RuntimeError("the gateway did not start")


def first_token(line: str) -> bool:
    """An SSE line carrying a token: the role-only first chunk and the usage chunk have no content."""
    if not line.startswith("data: {"):
        return False
    choices = json.loads(line[6:]).get("choices") or [{}]
    return bool(choices[0].get("delta", {}).get("content"))


def machine_busy_seconds() -> float:
    """CPU time every core of the machine has spent busy so far, stolen by the host included."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = (
        int(ticks) for ticks in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def own_seconds(processes: list[Process]) -> float:
    return time.process_time() + sum(cpu_seconds(p.popen.pid) for p in processes)


def http_body(stream: bool) -> dict[str, Any]:
    """bench_overhead's GenerateRequest as a chat-completions body: every field but the messages and the
    mode in the `smoa` extension, so the orchestrator receives the very same request."""
    extension = json_format.MessageToDict(request(), preserving_proto_field_name=True)
    for spoken_by_openai in ("messages", "mode"):
        extension.pop(spoken_by_openai)
    body: dict[str, Any] = {
        "model": "smoa",
        "messages": [{"role": "user", "content": request().messages[0].content}],
        "smoa": extension,
    }
    if stream:
        body |= {"stream": True, "stream_options": {"include_usage": True}}
    if chat_request(body).generate != request():
        raise AssertionError("the HTTP body does not carry the gRPC request")
    return body


def grpc_call(stub: orchestrator_pb2_grpc.OrchestratorServiceAsyncStub, stream: bool) -> Call:
    async def call() -> tuple[float, float] | None:
        started, first = time.perf_counter(), None
        try:
            if not stream:
                await stub.Generate(request(), timeout=30)
            else:
                async for event in stub.GenerateStream(request(), timeout=30):
                    if first is None and event.WhichOneof("event") == "token":
                        first = time.perf_counter()
        except grpc.aio.AioRpcError:
            return None
        done = time.perf_counter()
        return (first or done) - started, done - started

    return call


def http_call(client: httpx2.AsyncClient, url: str, stream: bool) -> Call:
    body = http_body(stream)

    async def call() -> tuple[float, float] | None:
        started, first = time.perf_counter(), None
        try:
            if not stream:
                reply = await client.post(url, json=body)
                if reply.status_code != 200:
                    return None
                reply.json()  # as a client would: the answer read, not just received
            else:
                async with client.stream("POST", url, json=body) as streamed:
                    if streamed.status_code != 200:
                        return None
                    async for line in streamed.aiter_lines():
                        if first is None and first_token(line):
                            first = time.perf_counter()
                        if line == "data: [DONE]":
                            break
        except httpx2.HTTPError:
            return None
        done = time.perf_counter()
        return (first or done) - started, done - started

    return call


async def latency(paths: dict[str, Call], rounds: int) -> dict[str, dict[str, Any]]:
    """One request at a time; in each round every path sends ROUND requests, in alternating order."""
    first: dict[str, list[float]] = {name: [] for name in paths}
    failures = dict.fromkeys(paths, 0)
    names = list(paths)
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            for _ in range(ROUND):
                timed = await paths[name]()
                if timed is None:
                    failures[name] += 1
                else:
                    first[name].append(timed[0] * 1000)
    return {name: stats(first[name]) | {"errors": failures[name]} for name in names}


async def throughput(
    paths: dict[str, Call], concurrency: int, seconds: float, processes: list[Process]
) -> dict[str, Any]:
    """Each path for `seconds` in all, in SEGMENTS segments, with the CPU each process used."""
    found: dict[str, dict[str, Any]] = {
        name: {"requests": 0, "errors": 0, "seconds": 0.0, "latencies": [], "cpu": {}} for name in paths
    }
    names = list(paths)
    order = [name for i in range(SEGMENTS) for name in (names if i % 2 == 0 else names[::-1])]
    for name in order:
        before = {p.name: cpu_seconds(p.popen.pid) for p in processes} | {"client": time.process_time()}
        segment = await closed_loop(paths[name], concurrency, seconds / SEGMENTS)
        answered, failed, elapsed, latencies = segment
        after = {p.name: cpu_seconds(p.popen.pid) for p in processes} | {"client": time.process_time()}
        entry = found[name]
        entry["requests"] += answered
        entry["errors"] += failed
        entry["seconds"] += elapsed
        entry["latencies"] += latencies
        for process in before:
            entry["cpu"][process] = entry["cpu"].get(process, 0.0) + after[process] - before[process]
    result: dict[str, Any] = {"concurrency": concurrency}
    for name, entry in found.items():
        ordered = sorted(entry["latencies"])
        result[name] = {
            "requests": entry["requests"],
            "errors": entry["errors"],
            "rps": entry["requests"] / entry["seconds"],
            "p50_ms": percentile(ordered, 0.50) if ordered else None,
            "p99_ms": percentile(ordered, 0.99) if ordered else None,
            # Where the machine's CPU went per request: what the gateway's hop costs beside its latency.
            "cpu_ms_per_request": {
                process: seconds_used * 1000 / max(1, entry["requests"])
                for process, seconds_used in entry["cpu"].items()
            },
        }
    return result


class AnsweringAtOnce(orchestrator_pb2_grpc.OrchestratorServiceServicer):
    """An orchestrator that answers every Generate at once with one recorded answer: what is left of a
    request through the gateway is the gateway's own hop, out of the deployment's noise (its p50 moves by
    more between rounds than the gateway's target)."""

    def __init__(self, summary: orchestrator_pb2.GenerateResponse):
        self.summary = summary

    async def Generate(
        self, request: orchestrator_pb2.GenerateRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> orchestrator_pb2.GenerateResponse:
        return self.summary


async def hop_alone(
    summary: orchestrator_pb2.GenerateResponse, rounds: int, baseline: Path | None, profiles: Path | None
) -> dict[str, Any]:
    """gRPC straight to the stub against HTTP through a gateway in front of it (and through the gateway of
    a `baseline` checkout, in the same rounds), one request at a time, with each gateway's CPU per
    completion; then, with `profiles`, each gateway recorded by py-spy under the same requests."""
    server = grpc.aio.server()
    orchestrator_pb2_grpc.add_OrchestratorServiceServicer_to_server(AnsweringAtOnce(summary), server)  # type: ignore[abstract]
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    gateways = {"http": launch_gateway(port)}
    if baseline is not None:
        gateways["http_baseline"] = launch_gateway(port, baseline)
    try:
        async with (
            grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel,
            httpx2.AsyncClient(timeout=30) as client,
        ):
            stub = orchestrator_pb2_grpc.OrchestratorServiceStub(channel)
            paths = {"grpc": grpc_call(stub, False)} | {
                name: http_call(client, f"http://127.0.0.1:{g.port}/v1/chat/completions", False)
                for name, g in gateways.items()
            }
            await latency(paths, 2)  # warm-up
            before = {name: cpu_seconds(g.popen.pid) for name, g in gateways.items()}
            found = await latency(paths, rounds)
            for name, g in gateways.items():
                found[name]["gateway_cpu_ms"] = (
                    (cpu_seconds(g.popen.pid) - before[name]) * 1000 / found[name]["requests"]
                )
            if profiles is not None:  # after measuring: py-spy's sampling takes CPU
                recorded = [dataclasses.replace(g, name=name) for name, g in gateways.items()]
                recorders = profile(recorded, PROFILE_SECONDS, profiles)
                ends = time.monotonic() + PROFILE_SECONDS
                while time.monotonic() < ends:
                    await latency(paths, 1)
                for recorder in recorders:
                    recorder.wait(PROFILE_SECONDS + 30)
    finally:
        stop_deployment(list(gateways.values()))
        await server.stop(0)
    return found


async def run(args: argparse.Namespace) -> dict[str, Any]:
    processes = start_deployment()
    try:
        processes.append(launch_gateway(processes[-1].port))
        levels = [4, 16] if args.quick else [1, 4, 16, 32]
        limits = httpx2.Limits(max_connections=max(levels), max_keepalive_connections=max(levels))
        url = f"http://127.0.0.1:{processes[-1].port}/v1/chat/completions"
        async with (
            grpc.aio.insecure_channel(f"127.0.0.1:{processes[-2].port}") as channel,
            httpx2.AsyncClient(limits=limits, timeout=30) as client,
        ):
            stub = orchestrator_pb2_grpc.OrchestratorServiceStub(channel)
            began, busy, own = time.perf_counter(), machine_busy_seconds(), own_seconds(processes)
            first = await stub.Generate(request(), timeout=30)
            shape = {
                "llm_calls": first.cost.total.calls,
                "layers": len(first.layers),
                "stop_reason": common_pb2.StopReason.Name(first.stop_reason),
            }
            unary = {"grpc": grpc_call(stub, False), "http": http_call(client, url, False)}
            streamed = {"grpc_stream": grpc_call(stub, True), "http_stream": http_call(client, url, True)}
            await latency(unary | streamed, 1 if args.quick else 3)  # warm-up: connections, caches
            single = await latency(unary | streamed, 3 if args.quick else 30)
            seconds = 2.0 if args.quick else 12.0
            loads = [await throughput(unary, c, seconds, processes) for c in levels]
            # What else ran meanwhile: a busy machine shifts every figure (the comparison less, interleaved).
            others = machine_busy_seconds() - busy - (own_seconds(processes) - own)
            foreign_share = max(0.0, others) / ((time.perf_counter() - began) * (os.cpu_count() or 1))
    finally:
        stop_deployment(processes)
    alone = await hop_alone(first, 10 if args.quick else 100, args.baseline, args.profile)
    return {
        "shape": shape,
        "latency": single,
        "added": added(single),
        "throughput": loads,
        "hop_alone": alone,
        "cpu_share_of_other_processes": foreign_share,
    }


def added(single: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The gateway's share: HTTP minus gRPC, and HTTP over gRPC, at p50 and p99."""
    found = {}
    for what, (direct, through) in {
        "completion": ("grpc", "http"),
        "stream_first_token": ("grpc_stream", "http_stream"),
    }.items():
        found[what] = {
            f"{q}_added_ms": single[through][f"{q}_ms"] - single[direct][f"{q}_ms"] for q in ("p50", "p99")
        } | {f"{q}_ratio": single[through][f"{q}_ms"] / single[direct][f"{q}_ms"] for q in ("p50", "p99")}
    return found


LABELS = {
    "grpc": "gRPC Generate, direct",
    "http": "HTTP completion, gateway",
    "grpc_stream": "gRPC GenerateStream, first token",
    "http_stream": "HTTP stream, first token",
    "http_baseline": "HTTP completion, baseline gateway",
}


def latency_row(name: str, s: dict[str, Any]) -> str:
    cpu = f"{s['gateway_cpu_ms']:>16.2f}" if "gateway_cpu_ms" in s else ""
    return (
        f"   {LABELS[name]:<36} {s['p50_ms']:>7.2f}  {s['p90_ms']:>7.2f}  {s['p99_ms']:>7.2f}  "
        f"{s['mean_ms']:>7.2f}  {s['min_ms']:>7.2f}  {s['errors']:>6}{cpu}"
    )


def report(result: dict[str, Any], machine: str) -> str:
    lat, shape, more = result["latency"], result["shape"], result["added"]
    lines = [
        "# smoa gateway overhead: HTTP through the gateway against gRPC straight to the orchestrator",
        "#   (instant LLM endpoint, services and gateway as separate processes, paths interleaved)",
        f"   {time.strftime('%Y-%m-%d %H:%M')} · {machine}",
        f"   request: SMOA n=4 k=2 max_layers=2 -> {shape['layers']} layers, {shape['llm_calls']} LLM calls, "
        f"stop {shape['stop_reason']}; the same GenerateRequest both ways",
        f"   other processes (and the host) took {result['cpu_share_of_other_processes']:.0%} of the "
        "machine's CPU during the run",
        "",
        f"## one request at a time ({lat['grpc']['requests']} requests per path, rounds of {ROUND})",
        "   path                                  p50 ms   p90 ms   p99 ms  mean ms   min ms  errors",
    ]
    lines += [latency_row(name, s) for name, s in lat.items()]
    for what, label in (("completion", "completion"), ("stream_first_token", "stream's first token")):
        m = more[what]
        lines.append(
            f"   the gateway adds to a {label}: p50 {m['p50_added_ms']:+.2f} ms (x{m['p50_ratio']:.2f}), "
            f"p99 {m['p99_added_ms']:+.2f} ms (x{m['p99_ratio']:.2f})"
        )
    lines += [
        "",
        f"## closed-loop clients, non-streamed ({SEGMENTS} segments per path, A B B A A B B A)",
        "   concurrency   gRPC req/s   HTTP req/s   HTTP/gRPC   gRPC p50 ms   HTTP p50 ms   errors",
    ]
    for t in result["throughput"]:
        g, h = t["grpc"], t["http"]
        lines.append(
            f"   {t['concurrency']:>11}   {g['rps']:>10.1f}   {h['rps']:>10.1f}   "
            f"{h['rps'] / g['rps']:>9.2f}   {g['p50_ms'] or 0:>11.1f}   {h['p50_ms'] or 0:>11.1f}   "
            f"{g['errors'] + h['errors']:>6}"
        )
    best = max(result["throughput"], key=lambda t: t["http"]["rps"])
    for name, label in (("grpc", "gRPC"), ("http", "HTTP")):
        cpu = best[name]["cpu_ms_per_request"]
        lines.append(
            f"   CPU per {label} request at concurrency {best['concurrency']} (ms): "
            + ", ".join(f"{p} {ms:.1f}" for p, ms in sorted(cpu.items(), key=lambda kv: -kv[1]))
            + f" · total {sum(cpu.values()):.1f}"
        )
    alone = result["hop_alone"]
    hop = {q: alone["http"][f"{q}_ms"] - alone["grpc"][f"{q}_ms"] for q in ("p50", "p99")}
    lines += [
        "",
        f"## the gateway's hop alone: an orchestrator stub answering at once ({alone['grpc']['requests']} "
        "requests per path)",
        "   path                                  p50 ms   p90 ms   p99 ms  mean ms   min ms  errors"
        "  gateway CPU ms",
    ]
    lines += [latency_row(name, s) for name, s in alone.items()]
    for name in [n for n in alone if n != "grpc"]:
        lines.append(
            f"   {LABELS[name]} adds p50 {alone[name]['p50_ms'] - alone['grpc']['p50_ms']:+.2f} ms, "
            f"p99 {alone[name]['p99_ms'] - alone['grpc']['p99_ms']:+.2f} ms"
        )
    completion, ratio = (
        more["completion"],
        min(t["http"]["rps"] / t["grpc"]["rps"] for t in result["throughput"]),
    )
    lines += ["", "## targets (issue 22)"]
    for label, value, bound, met in (
        (
            "added p50, deployment (ms)",
            completion["p50_added_ms"],
            "<= 1.5",
            completion["p50_added_ms"] <= 1.5,
        ),
        (
            "added p99, deployment (ms)",
            completion["p99_added_ms"],
            "<= 3.0",
            completion["p99_added_ms"] <= 3.0,
        ),
        ("added p50, hop alone (ms)", hop["p50"], "<= 1.5", hop["p50"] <= 1.5),
        ("added p99, hop alone (ms)", hop["p99"], "<= 3.0", hop["p99"] <= 3.0),
        ("HTTP/gRPC throughput, lowest level", ratio, ">= 0.95", ratio >= 0.95),
    ):
        lines.append(f"   {label:<36} {value:>7.2f}  {bound:<8} {'PASS' if met else 'MISS'}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run, not a measurement")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="another checkout of smoa (git worktree add DIR REF) whose gateway joins the hop-alone phase",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="py-spy speedscope profiles of the gateways under the hop-alone phase's requests into DIR",
    )
    args = parser.parse_args()
    if not args.quick:
        require_release_core()
    result = asyncio.run(run(args))
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "?")
    machine = f"{cpu} · {os.cpu_count()} cores · Python {platform.python_version()}"
    print(report(result, machine))
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, **result}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
