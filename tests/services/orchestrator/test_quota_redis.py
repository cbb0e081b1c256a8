"""Quotas shared by orchestrator replicas through Redis (Debian's redis-server, a process of the test's
own): one caller's per-minute token quota holds exactly across two orchestrators taking its requests in
turn; concurrent admissions cannot both take the last of it (one Lua script); and with Redis killed a
request is admitted unchecked at once (and counted in smoa.quota.unchecked), or refused when the
orchestrator is set to fail closed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from smoa import AsyncSmoaClient
from smoa.v1 import orchestrator_pb2
from smoa_services.orchestrator.quota import Limits, QuotaExceeded, Quotas
from smoa_services.orchestrator.quota_counters import RedisCounters
from smoa_testing.eventually import eventually
from smoa_testing.fake_llm.instant_llm import instant_reply
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.observe.metric_points import count
from smoa_testing.stacks.orchestrator_stack import orchestrator_stack, question
from smoa_testing.stacks.redis_process import RedisProcess, redis_process

ALICE = (("authorization", "Bearer alice-token"),)
REQUEST = orchestrator_pb2.GenerateRequest(messages=question(), n=2, k=1, max_layers=1)


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisProcess]:
    with redis_process(tmp_path) as server:
        yield server


def orchestrator_settings(tmp_path: Path, redis: RedisProcess, quotas: str) -> dict[str, Any]:
    """An orchestrator that knows Alice, counts in `redis` and reads its quotas from tmp_path/quota.json."""
    tokens, quota = tmp_path / "tokens", tmp_path / "quota.json"
    tokens.write_text("alice alice-token\ncarol carol-token\n")
    quota.write_text(quotas)
    return {
        "auth_tokens_file": str(tokens),
        "quota_file": str(quota),
        "redis_url": redis.url,
        "admin_callers": "carol",
    }


async def test_concurrent_admissions_never_take_more_than_the_quota(redis: RedisProcess) -> None:
    book = {"*": Limits(tokens_per_minute=1000)}
    replicas = [Quotas(lambda: book, RedisCounters(redis.url, 0.5)) for _ in range(2)]
    grants = await asyncio.gather(
        *(replicas[i % 2].admit("alice", 70) for i in range(20)), return_exceptions=True
    )
    granted = [g.tokens for g in grants if not isinstance(g, BaseException)]
    assert sum(t or 0 for t in granted) == 1000  # 14 of 70, one of the 20 left, then refusals
    assert len(granted) == 15 and sum(isinstance(g, QuotaExceeded) for g in grants) == 5
    for replica in replicas:
        await replica.counters.close()  # type: ignore[attr-defined]


async def test_two_orchestrators_hold_one_callers_quota_exactly(tmp_path: Path, redis: RedisProcess) -> None:
    quota = tmp_path / "quota.json"
    shared = orchestrator_settings(tmp_path, redis, quotas="{}")
    with FakeOpenAI(instant_reply) as llm:
        async with (
            orchestrator_stack(llm.base_url, **shared) as one,
            orchestrator_stack(llm.base_url, **shared) as two,
        ):
            cost = (await one.stub.Generate(REQUEST, metadata=ALICE, timeout=10)).cost.total
            each = cost.input_tokens + cost.output_tokens
            limit = int(2.5 * each)
            quota.write_text(json.dumps({"alice": {"tokens_per_minute": limit}}))
            for replica in (one, two):  # each polls the file
                async with AsyncSmoaClient(f"127.0.0.1:{replica.port}", token="carol-token") as admin:

                    async def alice_is_limited() -> bool:
                        return any(u.caller == "alice" and u.tokens_per_minute for u in await admin.usage())

                    await eventually(alice_is_limited, 20, "the quota file read again")
            answered, refused = [], []
            for i in range(6):
                stack = (one, two)[i % 2]
                try:
                    reply = await stack.stub.Generate(REQUEST, metadata=ALICE, timeout=10)
                    answered.append(reply.cost.total.input_tokens + reply.cost.total.output_tokens)
                except grpc.aio.AioRpcError as e:
                    refused.append(e.code())
    # Two whole requests and the third let in with the half left; every later one refused, on both.
    assert len(answered) == 3 and refused == [grpc.StatusCode.RESOURCE_EXHAUSTED] * 3
    print(f"quota {limit} tokens/min; admitted {sum(answered)} tokens in {len(answered)} requests")


async def test_with_redis_gone_a_request_is_admitted_unchecked_or_refused_as_configured(
    tmp_path: Path, redis: RedisProcess
) -> None:
    shared = orchestrator_settings(tmp_path, redis, quotas='{"*": {"tokens_per_minute": 1000000}}')
    with FakeOpenAI(instant_reply) as llm:
        async with (
            orchestrator_stack(llm.base_url, **shared) as open_,
            orchestrator_stack(llm.base_url, **shared, quota_fail_open=False) as closed,
        ):
            assert (await open_.stub.Generate(REQUEST, metadata=ALICE, timeout=10)).text
            assert count(open_.metrics, "smoa.quota.unchecked") == 0
            redis.stop()
            loop = asyncio.get_running_loop()
            started = loop.time()
            assert (await open_.stub.Generate(REQUEST, metadata=ALICE, timeout=10)).text
            assert loop.time() - started < 3.0
            # Flagged for the operator: Alice is not in the quota file, so she is counted as "other".
            assert count(open_.metrics, "smoa.quota.unchecked", smoa__caller="other") == 1
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await closed.stub.Generate(REQUEST, metadata=ALICE, timeout=10)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "quota" in (refused.value.details() or "")
