"""One caller's flood of hanging and over-long requests, with another caller asking now and then, on real
services whose breaker opens after 3 failures in a row: the caller breaker test's and the 60-second run's
(benchmarks/breaker_flood.py). A scripted model: prompts with "hang" never end in time, "at length" ones
write 3,000 words in 4 s, the rest answer at once. And the other side: a backend that goes down for
everyone, and how long, and how many failed calls, the breaker takes to open with one caller or several."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc

from smoa.v1 import orchestrator_pb2
from smoa_testing.fake_llm.chat_script import Reply, last_user
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.observe.metric_points import count
from smoa_testing.stacks.orchestrator_stack import Stack, orchestrator_stack, question

ALICE, BOB = (("authorization", "Bearer alice-token"),), (("authorization", "Bearer bob-token"),)
CAROL = (("authorization", "Bearer carol-token"),)
TOKENS = "alice alice-token\nbob bob-token\ncarol carol-token\n"
# Opens after 3 failures in a row; a long cool-down, so that one opening is seen once.
PEERS: dict[str, Any] = {
    "breaker_consecutive_failures": 3,
    "breaker_cooldown_seconds": 30,
    "llm_concurrency": 8,
}


def backend(request: dict[str, Any]) -> Reply:
    prompt = last_user(request)
    if "hang" in prompt:
        return Reply("too late", delay=30.0)
    if "at length" in prompt:
        return Reply("word " * 3000, delay=4.0)  # a long generation, longer than her budget allows
    return Reply("Four.")


def generate(text: str) -> orchestrator_pb2.GenerateRequest:
    return orchestrator_pb2.GenerateRequest(messages=question(text), n=2, k=1, max_layers=1)


@dataclass
class Flooded:
    """Bob's answered requests and failures, the breaker's openings, and once a second (elapsed seconds,
    openings so far, Bob's answers so far, his failures so far)."""

    answered: int = 0
    failed: list[str] = field(default_factory=list)
    openings: float = 0.0
    timeline: list[tuple[float, float, int, int]] = field(default_factory=list)


async def flood(
    tmp_path: Path, seconds: float, with_bob: bool, every_second: Callable[[Flooded], None] | None = None
) -> Flooded:
    tokens = tmp_path / "tokens"
    tokens.write_text(TOKENS)
    seen = Flooded()
    with FakeOpenAI(backend) as fake:
        async with orchestrator_stack(
            fake.base_url, llm_timeout_seconds=20, peer_settings=PEERS, auth_tokens_file=str(tokens)
        ) as stack:
            for _ in range(5):  # what is usual for this backend, learnt from whoever is there
                await stack.stub.Generate(
                    generate("Warm up: 2 + 2?"), metadata=BOB if with_bob else ALICE, timeout=10
                )
            until = time.monotonic() + seconds

            async def alice(what: str) -> None:
                while time.monotonic() < until:
                    with contextlib.suppress(grpc.aio.AioRpcError):
                        await stack.stub.Generate(generate(what), metadata=ALICE, timeout=3)

            async def bob() -> None:
                while time.monotonic() < until:
                    try:
                        reply = await stack.stub.Generate(generate("2 + 2?"), metadata=BOB, timeout=10)
                        seen.answered += 1
                        if reply.degraded:
                            seen.failed.append(f"degraded: {list(reply.degradations)}")
                    except grpc.aio.AioRpcError as e:
                        seen.failed.append(f"{e.code().name}: {e.details()}")
                    await asyncio.sleep(2.0)  # now and then: Alice's failures come in runs between

            def openings() -> float:
                return breaker_openings(stack)

            async def watch() -> None:
                started = time.monotonic()
                while time.monotonic() < until:
                    await asyncio.sleep(1.0)
                    seen.timeline.append(
                        (time.monotonic() - started, openings(), seen.answered, len(seen.failed))
                    )
                    if every_second is not None:
                        every_second(seen)

            floods = [alice("Please hang."), alice("Tell me at length."), alice("Please hang, again.")]
            await asyncio.gather(*floods, watch(), *([bob()] if with_bob else []))
            seen.openings = openings()
    return seen


def breaker_openings(stack: Stack) -> float:
    return count(stack.metrics, "smoa.llm.breaker.transitions", smoa__breaker__state="open")


@dataclass(frozen=True)
class Opening:
    """How a backend down for everyone was found: seconds from its first failure until the breaker opened,
    the backend calls that failed meanwhile, and the requests they belonged to."""

    seconds: float
    failed_calls: int
    requests: int


async def dead_backend(tmp_path: Path, callers: int) -> Opening:
    """The backend serves `callers` callers (1 to 3), then fails every call (HTTP 500); the callers take
    turns asking until the breaker opens."""
    tokens = tmp_path / "tokens"
    tokens.write_text(TOKENS)
    who = (ALICE, BOB, CAROL)[:callers]
    down = False

    def dying(request: dict[str, Any]) -> Reply:
        return Reply(status=500, error="backend down") if down else Reply("Four.")

    with FakeOpenAI(dying) as fake:
        async with orchestrator_stack(
            fake.base_url, peer_settings=PEERS, auth_tokens_file=str(tokens)
        ) as stack:
            for metadata in who:
                await stack.stub.Generate(generate("Warm up: 2 + 2?"), metadata=metadata, timeout=10)
            down, served = True, len(fake.calls())
            started, requests = time.monotonic(), 0
            while not breaker_openings(stack) and time.monotonic() - started < 30:
                with contextlib.suppress(grpc.aio.AioRpcError):
                    await stack.stub.Generate(
                        generate("2 + 2?"), metadata=who[requests % callers], timeout=10
                    )
                requests += 1
            assert breaker_openings(stack), "the breaker never opened"
            return Opening(time.monotonic() - started, len(fake.calls()) - served, requests)
