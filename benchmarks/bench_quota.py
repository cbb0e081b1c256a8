"""What a quota check adds to a request: the orchestrator's admit before the pipeline and settle after
it, with quotas off (no quota file), counters in memory, and counters in Redis (Debian's redis-server
started here on a Unix socket), interleaved round by round in one run so the machine's noise hits all
three alike. Prints the median per request and the added time against quotas off.

    .venv/bin/python benchmarks/bench_quota.py [--requests 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from smoa_services.orchestrator.quota import Limits, Quotas
from smoa_services.orchestrator.quota_counters import MemoryCounters, RedisCounters
from smoa_testing.stacks.redis_process import redis_process

BOOK = {"*": Limits(tokens_per_minute=10**12, tokens_per_day=10**12, requests_per_minute=10**9)}


async def one(quotas: Quotas, caller: str) -> float:
    started = time.perf_counter()
    grant = await quotas.admit(caller, 5000)
    await quotas.settle(grant, 1234)
    return time.perf_counter() - started


async def main(requests: int) -> None:
    with tempfile.TemporaryDirectory() as folder, redis_process(Path(folder)) as redis:
        redis_counters = RedisCounters(redis.url, 0.5)
        systems = {
            "off": Quotas(dict, MemoryCounters()),
            "memory": Quotas(lambda: BOOK, MemoryCounters()),
            "redis": Quotas(lambda: BOOK, redis_counters),
        }
        times: dict[str, list[float]] = {name: [] for name in systems}
        for quotas in systems.values():  # warm up: connection, script load
            for _ in range(50):
                await one(quotas, "warm")
        for i in range(requests):
            for name, quotas in systems.items():
                times[name].append(await one(quotas, f"caller-{i % 8}"))
        await redis_counters.close()
    off = statistics.median(times["off"])
    for name, samples in times.items():
        p50, p99 = statistics.median(samples), statistics.quantiles(samples, n=100)[98]
        print(
            f"{name:7s} p50 {p50 * 1e6:8.1f} us  p99 {p99 * 1e6:8.1f} us  "
            f"added at p50 {(p50 - off) * 1e6:8.1f} us  (x{p50 / off:.1f} of off)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2000)
    asyncio.run(main(parser.parse_args().requests))
