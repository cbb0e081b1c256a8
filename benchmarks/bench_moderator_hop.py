"""What one peer hop costs, and what the orchestrator saves by checking kept answers for agreement itself:
a Moderate RPC that needs no LLM (the moderator's own first check finds the answers agree), against the
same RPC answered by a bare grpc.aio server (no smoa code: the floor of a Python gRPC hop), and against
the check made in process.

    .venv/bin/python benchmarks/bench_moderator_hop.py [--calls 2000] [--rounds 2]

Both servers are processes on uvloop, as the services run; the moderator is bench_overhead.py's, against
the instant LLM. One sequential client alternates between them, so the latency is the hop's own.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from typing import Any

import grpc
import uvloop
from bench_overhead import cpu_seconds, start_deployment, stop_deployment

from smoa.v1 import common_pb2, moderator_pb2, moderator_pb2_grpc
from smoa_services.ensemble.consensus import agreement_of

KEPT = ["I worked it out step by step: the answer is 42", "Counting carefully, the answer is 42"]
THRESHOLD = 0.75  # SMOA_CONSENSUS_THRESHOLD's default


class BareModerator(moderator_pb2_grpc.ModeratorServiceServicer):
    async def Moderate(self, request: Any, context: Any) -> moderator_pb2.ModerateResponse:
        return moderator_pb2.ModerateResponse(reason="answers agree on 42", agreement=1.0)


async def serve_bare() -> None:
    server = grpc.aio.server()
    moderator_pb2_grpc.add_ModeratorServiceServicer_to_server(BareModerator(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    print(port, flush=True)
    await server.wait_for_termination()


def moderate_request() -> moderator_pb2.ModerateRequest:
    return moderator_pb2.ModerateRequest(
        messages=[common_pb2.ChatMessage(role=common_pb2.CHAT_ROLE_USER, content="What is 6 times 7?")],
        kept=[common_pb2.Candidate(id=f"L1-P{i}", text=t) for i, t in enumerate(KEPT)],
        layer=1,
        max_layers=2,
    )


async def hop(port: int, pid: int, calls: int) -> tuple[float, float, float]:
    """p50 ms, server CPU ms and caller CPU ms per call."""
    request = moderate_request()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = moderator_pb2_grpc.ModeratorServiceStub(channel)
        for _ in range(200):  # warm up
            await stub.Moderate(request, timeout=5)
        latencies = []
        server, client = cpu_seconds(pid), time.process_time()
        for _ in range(calls):
            started = time.perf_counter()
            reply = await stub.Moderate(request, timeout=5)
            latencies.append(time.perf_counter() - started)
        server, client = cpu_seconds(pid) - server, time.process_time() - client
    assert not reply.llm_used, "the kept answers were meant to agree"
    latencies.sort()
    return latencies[calls // 2] * 1e3, server / calls * 1e3, client / calls * 1e3


async def measure(servers: dict[str, tuple[int, int]], calls: int, rounds: int) -> None:
    for round_ in range(1, rounds + 1):
        print(f"## round {round_}: {calls} calls each, one at a time")
        found = {}
        for name, (port, pid) in servers.items():
            found[name] = await hop(port, pid, calls)
            p50, server, client = found[name]
            print(f"   {name:34s} p50 {p50:.3f} ms · CPU: server {server:.3f} + caller {client:.3f} ms")
        smoa, bare = found.values()
        cpu = sum(smoa[1:]) / sum(bare[1:])
        print(f"   smoa's hop / the bare hop: p50 {smoa[0] / bare[0]:.2f}x, CPU {cpu:.2f}x")
    started = time.perf_counter()
    for _ in range(calls):
        agreement_of(KEPT, THRESHOLD)
    print(f"the check in the orchestrator's process: {(time.perf_counter() - started) / calls * 1e3:.3f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--serve-bare", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        uvloop.run(serve_bare())
        return
    bare = subprocess.Popen([sys.executable, __file__, "--serve-bare"], stdout=subprocess.PIPE, text=True)
    assert bare.stdout is not None
    processes = start_deployment()
    try:
        moderator = next(p for p in processes if p.name == "moderator")
        servers = {
            "smoa moderator (Moderate, no LLM)": (moderator.port, moderator.popen.pid),
            "bare grpc.aio server": (int(bare.stdout.readline()), bare.pid),
        }
        uvloop.run(measure(servers, args.calls, args.rounds))
    finally:
        bare.terminate()
        stop_deployment(processes)


if __name__ == "__main__":
    main()
