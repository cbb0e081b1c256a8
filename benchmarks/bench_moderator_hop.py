"""What the orchestrator saves by checking kept answers for agreement itself: one Moderate RPC that needs no
LLM (the moderator's own first check finds the answers agree), against the same check in process.

    .venv/bin/python benchmarks/bench_moderator_hop.py [--calls 2000]

The moderator runs as a process against the instant LLM, as in bench_overhead.py; the caller is one
sequential client, so the latency is the hop's own.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import grpc
from bench_overhead import cpu_seconds, start_deployment, stop_deployment

from smoa.v1 import common_pb2, moderator_pb2, moderator_pb2_grpc
from smoa_services.ensemble.consensus import agreement_of

KEPT = ["I worked it out step by step: the answer is 42", "Counting carefully, the answer is 42"]
THRESHOLD = 0.75  # SMOA_CONSENSUS_THRESHOLD's default


async def measure(port: int, pid: int, calls: int) -> None:
    request = moderator_pb2.ModerateRequest(
        messages=[common_pb2.ChatMessage(role=common_pb2.CHAT_ROLE_USER, content="What is 6 times 7?")],
        kept=[common_pb2.Candidate(id=f"L1-P{i}", text=t) for i, t in enumerate(KEPT)],
        layer=1,
        max_layers=2,
    )
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = moderator_pb2_grpc.ModeratorServiceStub(channel)
        for _ in range(200):  # warm up
            reply = await stub.Moderate(request, timeout=5)
        assert not reply.llm_used, "the kept answers were meant to agree"
        latencies = []
        server, client = cpu_seconds(pid), time.process_time()
        for _ in range(calls):
            started = time.perf_counter()
            await stub.Moderate(request, timeout=5)
            latencies.append(time.perf_counter() - started)
        server, client = cpu_seconds(pid) - server, time.process_time() - client
    latencies.sort()
    p50, p99 = latencies[calls // 2] * 1e3, latencies[int(calls * 0.99)] * 1e3
    print(f"Moderate RPC, no LLM call: p50 {p50:.3f} ms, p99 {p99:.3f} ms")
    print(f"   CPU per call: moderator {server / calls * 1e3:.3f} ms, caller {client / calls * 1e3:.3f} ms")
    started = time.perf_counter()
    for _ in range(calls):
        agreement_of(KEPT, THRESHOLD)
    print(f"the same check in the orchestrator: {(time.perf_counter() - started) / calls * 1e3:.3f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    processes = start_deployment()
    try:
        moderator = next(p for p in processes if p.name == "moderator")
        asyncio.run(measure(moderator.port, moderator.popen.pid, args.calls))
    finally:
        stop_deployment(processes)


if __name__ == "__main__":
    main()
