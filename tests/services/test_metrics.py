"""The metrics a whole stack records for real requests, read through an in-process metric reader: RPC
durations on both sides of every hop, the GenAI token and duration histograms per LLM call (whose sums
must equal the cost the caller was told), and smoa's own counters, on the happy path and when the judge,
the LLM backend or the request fails."""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest
from opentelemetry.sdk.metrics.export import HistogramDataPoint, NumberDataPoint

from smoa.v1 import orchestrator_pb2
from smoa_testing.eventually import eventually
from smoa_testing.fake_llm.chat_script import Reply
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.fake_llm.role_script import script, smoa
from smoa_testing.observe.metric_points import count, matching, points, total
from smoa_testing.stacks.orchestrator_stack import orchestrator_stack


async def test_a_smoa_answer_is_counted_on_every_hop_and_its_tokens_match_its_cost() -> None:
    with FakeOpenAI(script()) as fake:
        async with orchestrator_stack(fake.base_url) as stack:
            response = await stack.stub.Generate(smoa(), timeout=10)
            metrics = stack.metrics
            generate = "smoa.v1.OrchestratorService/Generate"
            assert (
                count(
                    metrics, "rpc.server.call.duration", rpc__method=generate, rpc__response__status_code="OK"
                )
                == 1
            )
            propose = "smoa.v1.ProposerService/Propose"
            # Server and client sides saw the same six proposer calls (3 proposers x 2 layers).
            assert count(metrics, "rpc.server.call.duration", rpc__method=propose) == 6
            assert count(metrics, "rpc.client.call.duration", rpc__method=propose) == 6
            assert count(metrics, "rpc.client.call.duration", rpc__method="smoa.v1.JudgeService/Judge") == 2
            # Health checks are not measured.
            assert not [
                p for p in points(metrics, "rpc.server.call.duration") if "grpc.health" in str(p.attributes)
            ]

            calls = response.cost.total.calls
            assert count(metrics, "gen_ai.client.operation.duration") == calls == len(fake.requests)
            usage = "gen_ai.client.token.usage"
            assert total(metrics, usage, gen_ai__token__type="input") == response.cost.total.input_tokens
            assert total(metrics, usage, gen_ai__token__type="output") == response.cost.total.output_tokens
            assert {
                p.attributes.get("gen_ai.operation.name") for p in points(metrics, usage) if p.attributes
            } == {"chat"}

            requests = matching(metrics, "smoa.requests", smoa__mode="smoa", smoa__stop_reason="max_layers")
            assert [(p.value, (p.attributes or {}).get("smoa.degraded")) for p in requests] == [(1, False)]  # type: ignore[union-attr]
            assert total(metrics, "smoa.layers", smoa__mode="smoa") == len(response.layers) == 2
            assert count(metrics, "smoa.judge.fallbacks") == 0


async def test_a_judge_that_fails_counts_as_fallbacks_and_a_degraded_answer() -> None:
    with FakeOpenAI(script(judge=lambda r: "no json at all")) as fake:
        async with orchestrator_stack(fake.base_url) as stack:
            response = await stack.stub.Generate(smoa(max_layers=1), timeout=10)
            metrics = stack.metrics
            assert response.layers[0].judge_fallback
            assert count(metrics, "smoa.judge.fallbacks", smoa__mode="smoa") == 1
            assert count(metrics, "smoa.degradations", smoa__stage="judge") == 1
            assert count(metrics, "smoa.requests", smoa__degraded=True) == 1


async def test_a_failing_backend_opens_its_breaker_and_failed_calls_carry_their_error() -> None:
    with FakeOpenAI(lambda r: Reply(status=500, error="down")) as fake:
        async with orchestrator_stack(
            fake.base_url, breaker_consecutive_failures=2, breaker_cooldown_seconds=60
        ) as stack:
            request = smoa(mode=orchestrator_pb2.MODE_SINGLE)
            for _ in range(3):
                with pytest.raises(grpc.aio.AioRpcError) as failed:
                    await stack.stub.Generate(request, timeout=10)
            metrics = stack.metrics
            assert failed.value.code() == grpc.StatusCode.UNAVAILABLE
            states = [
                p.value for p in points(metrics, "smoa.llm.breaker.state") if isinstance(p, NumberDataPoint)
            ]
            assert states == [2]  # open
            assert count(metrics, "smoa.llm.breaker.transitions", smoa__breaker__state="open") == 1
            assert count(metrics, "gen_ai.client.operation.duration", error__type="LLMUnavailable") == 3
            assert count(metrics, "gen_ai.client.token.usage") == 0
            generate = "smoa.v1.OrchestratorService/Generate"
            assert (
                count(
                    metrics,
                    "rpc.server.call.duration",
                    rpc__method=generate,
                    rpc__response__status_code="UNAVAILABLE",
                )
                == 3
            )
            assert count(metrics, "smoa.requests") == 0  # no answer was given
        assert len(fake.requests) == 2  # the open breaker kept the third call off the backend


async def test_a_refused_request_is_measured_with_its_status() -> None:
    with FakeOpenAI(script()) as fake:
        async with orchestrator_stack(fake.base_url) as stack:
            with pytest.raises(grpc.aio.AioRpcError):
                await stack.stub.Generate(smoa(n=2, k=3), timeout=10)
            generate = "smoa.v1.OrchestratorService/Generate"
            assert (
                count(
                    stack.metrics,
                    "rpc.server.call.duration",
                    rpc__method=generate,
                    rpc__response__status_code="INVALID_ARGUMENT",
                )
                == 1
            )
            assert not fake.requests


async def test_the_event_loops_lag_is_measured_and_a_blocked_loop_shows() -> None:
    with FakeOpenAI(script()) as fake:
        async with orchestrator_stack(fake.base_url) as stack:
            # The four services of this stack share the test's loop: each watches it.
            await eventually(lambda: count(stack.metrics, "smoa.process.loop_lag") >= 8, 10, "lag recorded")
            quiet = [
                p.max
                for p in points(stack.metrics, "smoa.process.loop_lag")
                if isinstance(p, HistogramDataPoint)
            ]
            time.sleep(0.5)  # the loop blocked, as a slow synchronous call would block it
            await asyncio.sleep(0.25)
            blocked = [
                p.max
                for p in points(stack.metrics, "smoa.process.loop_lag")
                if isinstance(p, HistogramDataPoint)
            ]
    # The watcher was somewhere in its 0.1 s sleep when the block began: it woke at least 0.4 s late.
    assert max(blocked) >= 0.4 and max(quiet) < max(blocked)
