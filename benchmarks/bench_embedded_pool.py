"""How fast the embedded model decodes a layer's calls at once: the pool that
`python -m smoa_services.llm.embedded` starts (one single-threaded worker per usable CPU) against one
llama-cpp-python server using every usable CPU (the embedded default before the pool) and one
single-threaded server. Each setup gets the same 4 calls
at once per round (a layer of 4 proposers), rounds alternating, so machine noise falls on all alike.

    .venv/bin/python benchmarks/bench_embedded_pool.py [--rounds 3] [--calls 4] [--max-tokens 96]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time

import openai

from smoa_services.config import EMBEDDED_MODEL
from smoa_services.llm.model_pool import free_port
from smoa_services.llm.model_server import EmbeddedModelServer, usable_cpus

QUESTIONS = [
    "What is 7 + 5? Explain.",
    "Name three colours and say why you like them.",
    "Why is the sky blue?",
    "Write a short poem about rain.",
    "What is the capital of France, and what is it known for?",
    "How many legs does a spider have?",
    "Give two tips for learning to cook.",
    "What do bees make?",
]


async def layer(base_url: str, calls: int, max_tokens: int) -> tuple[float, int]:
    """Seconds for `calls` calls at once, and the tokens they wrote."""
    client = openai.AsyncOpenAI(base_url=base_url, api_key="unused", max_retries=0, timeout=600)
    async with client:
        started = time.perf_counter()
        replies = await asyncio.gather(
            *(
                client.chat.completions.create(
                    model=EMBEDDED_MODEL,
                    messages=[{"role": "user", "content": QUESTIONS[i % len(QUESTIONS)]}],
                    max_tokens=max_tokens,
                    temperature=0.7,
                    seed=i,
                )
                for i in range(calls)
            )
        )
        took = time.perf_counter() - started
    return took, sum(r.usage.completion_tokens if r.usage else 0 for r in replies)


def start_pool(workers: int) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "smoa_services.llm.embedded",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    process.stderr.readline()  # the pool says so once its workers are ready
    return process, f"http://127.0.0.1:{port}/v1"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=4, help="calls at once (a layer's proposers)")
    parser.add_argument("--max-tokens", type=int, default=96)
    args = parser.parse_args()
    cpus = usable_cpus()
    threaded = EmbeddedModelServer(port=free_port(), threads=cpus)
    single = EmbeddedModelServer(port=free_port(), threads=1)
    for server in (threaded, single):
        server.start()
    pool, pool_url = start_pool(cpus)
    setups = {
        f"one server, {cpus} threads (before)": threaded.base_url,
        "one server, 1 thread": single.base_url,
        f"the pool: {cpus} workers of 1 thread": pool_url,
    }
    rates: dict[str, list[float]] = {name: [] for name in setups}
    try:
        for server in (threaded, single):
            server.wait_ready()
        print(f"# {args.calls} calls at once, max_tokens {args.max_tokens}, {cpus} usable CPUs")
        for round_ in range(1, args.rounds + 1):
            for name, url in setups.items():
                took, tokens = asyncio.run(layer(url, args.calls, args.max_tokens))
                rates[name].append(tokens / took)
                print(
                    f"   round {round_}: {name:34s} {took:6.2f} s, {tokens} tokens, {tokens / took:.1f} tok/s"
                )
        before = statistics.median(rates[next(iter(setups))])
        for name, found in rates.items():
            low, mid, high = min(found), statistics.median(found), max(found)
            print(f"{name:36s} tokens/s median {mid:6.1f} [{low:.1f}-{high:.1f}], {mid / before:.2f}x before")
    finally:
        pool.terminate()
        pool.wait()
        for server in (threaded, single):
            server.stop()


if __name__ == "__main__":
    main()
