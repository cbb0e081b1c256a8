"""Quotas over time per caller: the policy with time passed in, then on real services through gRPC and
through the gateway (429 with Retry-After, which the openai SDK reads as RateLimitError)."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any

import grpc
import openai
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from smoa import AsyncSmoaClient, PermissionDeniedError, cli
from smoa.v1 import orchestrator_pb2
from smoa_services.orchestrator.quota import Limits, QuotaExceeded, Quotas, quota_file
from smoa_services.orchestrator.quota_counters import Counters, MemoryCounters, Taken
from smoa_services.rpc.failure import Failure
from smoa_testing.eventually import eventually
from smoa_testing.fake_llm.instant_llm import instant_reply
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.observe.metric_points import count
from smoa_testing.stacks.in_process_gateway import gateway, openai_client
from smoa_testing.stacks.orchestrator_stack import orchestrator_stack, question


class Clock:
    def __init__(self, now: float = 1_000_040.0) -> None:  # 20 s into a minute
        self.now = now

    def __call__(self) -> float:
        return self.now


def quotas(book: dict[str, Limits], clock: Clock, counters: Counters | None = None) -> Quotas:
    return Quotas(lambda: book, counters or MemoryCounters(), clock=clock)


async def test_a_request_gets_what_is_left_and_its_real_cost_counts() -> None:
    clock = Clock()
    q = quotas({"alice": Limits(tokens_per_minute=1000)}, clock)
    first = await q.admit("alice", 600)
    assert first.tokens == 600
    await q.settle(first, 200)  # it spent less: the rest is given back
    second = await q.admit("alice", 5000)
    assert second.tokens == 800  # cut to what is left
    await q.settle(second, 900)  # a first layer and an answer run whatever the budget: counted
    with pytest.raises(QuotaExceeded) as refused:
        await q.admit("alice", 1)
    assert refused.value.reason == "QUOTA_EXCEEDED" and refused.value.retry_after == pytest.approx(40.0)
    assert refused.value.metadata == {"limit": "tokens_per_minute", "quota": "1000"}
    clock.now += 40.0  # the next minute
    assert (await q.admit("alice", 5000)).tokens == 1000


async def test_requests_per_minute_and_tokens_per_day() -> None:
    clock = Clock()
    q = quotas({"*": Limits(requests_per_minute=2, tokens_per_day=3000)}, clock)
    for _ in range(2):
        await q.settle(await q.admit("bob", 1000), 1000)
    with pytest.raises(QuotaExceeded, match="2 requests per minute"):
        await q.admit("bob", 1000)
    clock.now += 60.0
    await q.settle(await q.admit("bob", 1000), 1000)
    clock.now += 60.0
    with pytest.raises(QuotaExceeded, match="3000 tokens per day") as refused:
        await q.admit("bob", 1)
    assert (refused.value.retry_after or 0) > 3600
    assert (await q.admit("carol", 10)).tokens == 10  # "*" is per caller, not shared


async def test_a_caller_with_no_quota_is_not_counted() -> None:
    q = quotas({"alice": Limits(tokens_per_minute=10)}, Clock())
    grant = await q.admit("bob", 10**6)
    assert grant.tokens is None and grant.counted == ()


class Unreachable:
    """A store that hangs: the request must not."""

    async def take(self, *args: Any) -> Taken:
        await asyncio.sleep(30)
        return Taken(0)

    async def add(self, *args: Any) -> None:
        await asyncio.sleep(30)

    async def read(self, *args: Any) -> list[int]:
        await asyncio.sleep(30)
        return []


async def test_an_unreachable_store_admits_unchecked_or_refuses_as_configured() -> None:
    book = {"*": Limits(tokens_per_minute=10)}
    loop = asyncio.get_running_loop()
    started = loop.time()
    grant = await Quotas(lambda: book, Unreachable()).admit("alice", 500)
    assert grant.tokens is None and loop.time() - started < 1.0
    closed = Quotas(lambda: book, Unreachable(), fail_open=False)
    with pytest.raises(Failure) as refused:
        await closed.admit("alice", 500)
    assert refused.value.reason == "QUOTA_UNAVAILABLE" and refused.value.code == grpc.StatusCode.UNAVAILABLE


@pytest.mark.parametrize(
    "text", ["[]", '{"a": 3}', '{"a": {"tokens_per_hour": 1}}', '{"a": {"tokens_per_minute": -1}}', "{"]
)
def test_a_bad_quota_file_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        quota_file(text)


def generate(n: int = 2) -> orchestrator_pb2.GenerateRequest:
    return orchestrator_pb2.GenerateRequest(messages=question(), n=n, k=1, max_layers=1)


async def test_on_real_services_the_quota_refuses_once_spent_and_spares_other_callers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens, quota = tmp_path / "tokens", tmp_path / "quota.json"
    tokens.write_text("alice alice-token\nbob bob-token\ncarol carol-token\n")
    as_alice, as_bob = (("authorization", "Bearer alice-token"),), (("authorization", "Bearer bob-token"),)
    with FakeOpenAI(instant_reply) as llm:
        # What one request costs here, measured first (Bob has no quota).
        quota.write_text("{}")
        async with (
            orchestrator_stack(
                llm.base_url, auth_tokens_file=str(tokens), quota_file=str(quota), admin_callers="carol"
            ) as stack,
            gateway(stack.port) as url,
        ):
            cost = (await stack.stub.Generate(generate(), metadata=as_bob, timeout=10)).cost.total
            one = cost.input_tokens + cost.output_tokens
            # Room for two requests and a half: the third is let in with what is left, the fourth is not.
            quota.write_text(json.dumps({"alice": {"tokens_per_minute": int(2.5 * one)}}))
            target = f"127.0.0.1:{stack.port}"
            async with AsyncSmoaClient(target, token="carol-token") as admin:

                async def alice_is_limited() -> bool:
                    return any(u.caller == "alice" and u.tokens_per_minute for u in await admin.usage())

                await eventually(alice_is_limited, 20, "the quota file read again")  # it is polled
            first_raw = await openai_client(
                url, api_key="alice-token"
            ).chat.completions.with_raw_response.create(
                model="smoa:n=2,k=1,layers=1", messages=[{"role": "user", "content": "2 + 2?"}]
            )
            costs: list[int] = [first_raw.parse().usage.total_tokens]  # type: ignore[union-attr]
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                for _ in range(3):
                    reply = await stack.stub.Generate(generate(), metadata=as_alice, timeout=10)
                    costs.append(reply.cost.total.input_tokens + reply.cost.total.output_tokens)
            # A quota is said on every answer, as OpenAI's x-ratelimit-* headers (Bob has none).
            bob_raw = await openai_client(url, api_key="bob-token").chat.completions.with_raw_response.create(
                model="smoa:n=2,k=1,layers=1", messages=[{"role": "user", "content": "2 + 2?"}]
            )
            assert not [h for h in bob_raw.headers if h.startswith("x-ratelimit-")]
            with pytest.raises(openai.RateLimitError) as limited:
                await openai_client(url, api_key="alice-token").chat.completions.create(
                    model="smoa:n=2,k=1,layers=1", messages=[{"role": "user", "content": "2 + 2?"}]
                )
            assert (await stack.stub.Generate(generate(), metadata=as_bob, timeout=10)).text
            # What Alice spent, as the admin sees it; Alice may not look.
            async with AsyncSmoaClient(target, token="carol-token") as admin:
                [alice_usage] = await admin.usage()
            async with AsyncSmoaClient(target, token="alice-token") as alice:
                with pytest.raises(PermissionDeniedError):
                    await alice.usage()
            monkeypatch.setenv("SMOA_TOKEN", "carol-token")
            table = io.StringIO()
            args = cli.parser().parse_args(["--target", target, "usage"])
            code = await asyncio.to_thread(cli.usage, args, table)
            spend = {
                (caller, outcome): (
                    count(stack.metrics, "smoa.caller.requests", smoa__caller=caller, smoa__outcome=outcome),
                    count(stack.metrics, "smoa.caller.tokens", smoa__caller=caller, smoa__outcome=outcome),
                )
                for caller in ("alice", "other")
                for outcome in ("answered", "quota_exceeded")
            }
    assert len(costs) == 3
    assert alice_usage.caller == "alice" and alice_usage.tokens_per_minute == int(2.5 * one)
    assert (alice_usage.tokens_this_minute, alice_usage.requests_this_minute) == (sum(costs), 3)
    assert code == 0 and table.getvalue().splitlines()[1].split() == [
        "alice",
        f"{sum(costs)}/{int(2.5 * one)}",
        f"{sum(costs)}/-",
        "3/-",
    ]
    # Spend per caller: Alice by name (she is in the quota file), Bob as "other"; refusals cost nothing.
    assert spend[("alice", "answered")] == (3, sum(costs)) and spend[("alice", "quota_exceeded")] == (2, 0)
    assert spend[("other", "answered")][0] == 3 and spend[("other", "quota_exceeded")] == (0, 0)
    error = refused.value
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    info, retry = error_details_pb2.ErrorInfo(), error_details_pb2.RetryInfo()
    details: Any = status.details if status else []
    assert any(d.Unpack(info) for d in details) and info.reason == "QUOTA_EXCEEDED"
    assert any(d.Unpack(retry) for d in details) and 0 < retry.retry_delay.seconds <= 60
    limited_headers = limited.value.response.headers
    assert limited.value.status_code == 429 and 1 <= int(limited_headers["retry-after"]) <= 60
    assert limited_headers["x-ratelimit-limit-tokens"] == str(int(2.5 * one))
    assert limited_headers["x-ratelimit-remaining-tokens"] == "0"
    assert limited_headers["x-ratelimit-reset-tokens"] == f"{limited_headers['retry-after']}s"
    # The first answer said the limit, and what was left once its grant was taken: its budget (the
    # default, far over the quota) was cut to all there was.
    assert first_raw.headers["x-ratelimit-limit-tokens"] == str(int(2.5 * one))
    assert first_raw.headers["x-ratelimit-remaining-tokens"] == "0"
    assert first_raw.headers["x-ratelimit-reset-tokens"].endswith("s")
