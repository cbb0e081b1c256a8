"""One caller cannot trip a backend's circuit breaker for the others. Alice's prompts hang the model or ask
for answers longer than her budget; Bob, another authenticated caller, keeps asking ordinary questions.
On real services whose breaker opens after 3 failures in a row: every one of Bob's requests is answered,
and the breaker never opens. The control, Alice alone with the same flood, opens it: the flood is one
that trips it when nobody else is served."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

import grpc

from smoa.v1 import orchestrator_pb2
from tests.harness.chat_script import Reply, last_user
from tests.harness.metric_points import count
from tests.harness.openai_endpoint import FakeOpenAI
from tests.harness.orchestrator_stack import orchestrator_stack, question

ALICE, BOB = (("authorization", "Bearer alice-token"),), (("authorization", "Bearer bob-token"),)


def backend(request: dict[str, Any]) -> Reply:
    prompt = last_user(request)
    if "hang" in prompt:
        return Reply("too late", delay=30.0)
    if "at length" in prompt:
        return Reply("word " * 3000, delay=4.0)  # a long generation, longer than her budget allows
    return Reply("Four.")


def generate(text: str) -> orchestrator_pb2.GenerateRequest:
    return orchestrator_pb2.GenerateRequest(messages=question(text), n=2, k=1, max_layers=1)


async def flood(tmp_path: Path, seconds: float, with_bob: bool) -> tuple[int, list[str], float]:
    """Bob's answered requests and failures during Alice's flood, and the breaker's openings."""
    tokens = tmp_path / "tokens"
    tokens.write_text("alice alice-token\nbob bob-token\n")
    peers: dict[str, Any] = {
        "breaker_consecutive_failures": 3,
        "breaker_cooldown_seconds": 30,
        "llm_concurrency": 8,
    }
    answered, failed = 0, []
    with FakeOpenAI(backend) as fake:
        async with orchestrator_stack(
            fake.base_url, llm_timeout_seconds=20, peer_settings=peers, auth_tokens_file=str(tokens)
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
                nonlocal answered
                while time.monotonic() < until:
                    try:
                        reply = await stack.stub.Generate(generate("2 + 2?"), metadata=BOB, timeout=10)
                        answered += 1
                        if reply.degraded:
                            failed.append(f"degraded: {list(reply.degradations)}")
                    except grpc.aio.AioRpcError as e:
                        failed.append(f"{e.code().name}: {e.details()}")
                    await asyncio.sleep(2.0)  # now and then: Alice's failures come in runs between

            floods = [alice("Please hang."), alice("Tell me at length."), alice("Please hang, again.")]
            await asyncio.gather(*floods, *([bob()] if with_bob else []))
            openings = count(stack.metrics, "smoa.llm.breaker.transitions", smoa__breaker__state="open")
    return answered, failed, openings


async def test_one_callers_hanging_and_long_calls_leave_the_breaker_closed_for_another(
    tmp_path: Path,
) -> None:
    answered, failed, openings = await flood(tmp_path, seconds=10, with_bob=True)
    assert answered >= 4 and failed == [] and openings == 0


async def test_control_the_same_flood_alone_opens_it(tmp_path: Path) -> None:
    _, _, openings = await flood(tmp_path, seconds=5, with_bob=False)
    assert openings >= 1
