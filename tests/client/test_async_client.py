"""AsyncSmoaClient against the four real services: the same results, events and errors as SmoaClient."""

from __future__ import annotations

import asyncio

import pytest

from smoa import (
    AsyncSmoaClient,
    DeadlineExceededError,
    InvalidArgumentError,
    Progress,
    ServingStatus,
    Stage,
    StopReason,
    Summary,
    Token,
    UnavailableError,
)
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from tests.client.script import ANSWER, ROLES, failing, slow


async def test_generate_stream_and_health(target: str) -> None:
    async with AsyncSmoaClient(target, timeout=10) as client:
        assert await client.health() == ServingStatus.SERVING
        result = await client.generate("What is 6 times 7?", n=3, k=2, max_layers=1, roles=ROLES)
        assert (result.text, result.stop_reason) == (ANSWER, StopReason.MAX_LAYERS)
        assert result.layers[0].kept_ids == ["L1-P0", "L1-P1"]
        events = [e async for e in client.stream("What is 6 times 7?", n=3, k=2, max_layers=1, roles=ROLES)]
    assert [e.stage for e in events if isinstance(e, Progress)][:2] == [
        Stage.ROLES_READY,
        Stage.PROPOSALS_DONE,
    ]
    summary = events[-1]
    assert isinstance(summary, Summary)
    assert "".join(e.text for e in events if isinstance(e, Token)) == summary.result.text == ANSWER
    assert summary.result.layers == result.layers[:1] or summary.result.layers[0].kept_ids == [
        "L1-P0",
        "L1-P1",
    ]


async def test_errors_carry_the_services_details(target: str, fake: FakeOpenAI) -> None:
    async with AsyncSmoaClient(target, timeout=10) as client:
        with pytest.raises(InvalidArgumentError) as invalid:
            await client.generate("What is 6 times 7?", k=9)
        assert [v.field for v in invalid.value.violations] == ["k"]
        fake.script = failing(503)
        with pytest.raises(UnavailableError) as down:
            [e async for e in client.stream("What is 6 times 7?", mode="single")]
        assert (down.value.reason, down.value.retry_after) == ("LLM_UNAVAILABLE", 1.0)
        fake.script = slow
        with pytest.raises(DeadlineExceededError):
            await client.generate("What is 6 times 7?", mode="single", timeout=0.2)


async def test_bad_arguments_fail_before_any_call() -> None:
    async with AsyncSmoaClient("127.0.0.1:1") as client:
        with pytest.raises(ValueError, match=r"^n: must be >= 1"):
            client.stream("What is 6 times 7?", n=0)  # not even iterated: checked when called
        with pytest.raises(ValueError, match=r"^timeout: "):
            await client.generate("What is 6 times 7?", timeout=-1)


async def test_cancelling_the_task_cancels_the_call(target: str, fake: FakeOpenAI) -> None:
    fake.script = slow
    async with AsyncSmoaClient(target, timeout=10) as client:
        task = asyncio.create_task(client.generate("What is 6 times 7?", mode="single"))
        while not fake.in_flight:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        async with asyncio.timeout(1):  # the orchestrator hangs up on the LLM long before it answers
            while fake.in_flight:
                await asyncio.sleep(0.01)
