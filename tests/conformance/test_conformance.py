"""The conformance cases through both doors, against the real services and the gateway in this process,
every LLM call answered at once by the fake (instant_llm)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator

import pytest

from smoa import AsyncSmoaClient
from smoa_testing.fake_llm.instant_llm import instant_reply
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.stacks.in_process_gateway import gateway, openai_client
from smoa_testing.stacks.orchestrator_stack import orchestrator_stack
from tests.conformance.cases import CASES
from tests.conformance.doors import Door, GrpcDoor, HttpDoor


@pytest.fixture(params=["grpc", "http"])
async def door(request: pytest.FixtureRequest) -> AsyncIterator[Door]:
    with FakeOpenAI(instant_reply) as fake:
        async with orchestrator_stack(fake.base_url) as stack:
            if request.param == "grpc":
                async with AsyncSmoaClient(f"127.0.0.1:{stack.port}") as client:
                    yield GrpcDoor(client)
            else:
                async with gateway(stack.port) as url:
                    yield HttpDoor(openai_client(url))


@pytest.mark.parametrize("case", CASES)
async def test_conformance(door: Door, case: str) -> None:
    await CASES[case](door)


async def test_the_runner_takes_a_deployment_by_address() -> None:
    """`python -m tests.conformance`, as it is run against a deployment: both doors, every case."""
    with FakeOpenAI(instant_reply) as fake:
        async with orchestrator_stack(fake.base_url) as stack, gateway(stack.port) as url:
            runner = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "tests.conformance", "--grpc", f"127.0.0.1:{stack.port}", "--http", url,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            out, err = await asyncio.wait_for(runner.communicate(), 120)
    lines = out.decode().splitlines()
    assert runner.returncode == 0, out.decode() + err.decode()
    assert lines[-1] == f"{2 * len(CASES)} passed, 0 failed"
    assert sum(line.endswith(" ok") for line in lines) == 2 * len(CASES)
