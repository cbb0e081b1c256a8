"""What one LLM call costs the caller on each of the openai SDK's HTTP transports (SMOA_LLM_HTTP_CLIENT):
the SDK's low-level post(), as smoa's ChatModel makes it, against smoa_testing's instant server, on uvloop as
the services run. The transports alternate, so machine noise falls on both alike.

    .venv/bin/python benchmarks/bench_llm_transport.py [--calls 1000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

import openai
import uvloop
from bench_overhead import clean_environment, launch, stop_deployment

BODY = {
    "model": "instant",
    "messages": [
        {"role": "system", "content": "You are a careful mathematician."},
        {"role": "user", "content": "What is 6 times 7? " * 20},
    ],
    "max_tokens": 64,
    "temperature": 0.7,
}


async def measure(base_url: str, transport: str, calls: int, concurrency: int) -> tuple[float, float]:
    """(CPU ms, wall ms) per call, after a warm-up."""
    http_client = openai.DefaultAioHttpClient() if transport == "aiohttp" else None
    async with openai.AsyncOpenAI(
        base_url=base_url, api_key="unused", max_retries=0, http_client=http_client
    ) as client:

        async def call() -> None:
            await client.post("/chat/completions", body=BODY, cast_to=object, options={"timeout": 10.0})

        for _ in range(50):
            await call()

        async def worker() -> None:
            for _ in range(calls // concurrency):
                await call()

        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        done = concurrency * (calls // concurrency)
        return (time.process_time() - cpu) * 1000 / done, (time.perf_counter() - wall) * 1000 / done


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    instant = [sys.executable, "-m", "smoa_testing.fake_llm.instant_server"]
    llm = launch("instant-llm", instant, clean_environment())
    try:
        print("# the openai SDK's post() per call, by transport (CPU and wall ms in this process)")
        for index in range(args.rounds):
            for transport in ("httpx", "aiohttp"):
                for concurrency in (1, 8):
                    cpu, wall = uvloop.run(
                        measure(f"http://127.0.0.1:{llm.port}/v1", transport, args.calls, concurrency)
                    )
                    print(
                        f"   round {index + 1} · {transport:<7} · concurrency {concurrency}: "
                        f"{cpu:.3f} ms CPU, {wall:.3f} ms wall a call"
                    )
    finally:
        stop_deployment([llm])


if __name__ == "__main__":
    main()
