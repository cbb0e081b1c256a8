"""The soak: the whole deployment as processes (3 proposer and 2 judge replicas, the moderator, 2
orchestrators) against the fault-injecting LLM endpoint, driven open-loop through the SDK, and held to
zero failed requests in every scenario:

- the LLM fails 10% of calls with HTTP 500, hangs on 5% and answers garbage to 2%: every answer whose
  layers lost a proposer says so (degraded);
- a proposer replica is frozen (SIGSTOP) for the rest of the run: no call reaches it once it is out of
  rotation (counted from outside, by a proxy in front of it);
- an orchestrator and a proposer are sent SIGTERM under load: a prober on fresh connections sees
  NOT_SERVING before the port closes, nothing in flight is lost;
- a generation longer than the orchestrator's grace answers within it (stopped early for the deadline)
  or gets UNAVAILABLE SHUTTING_DOWN, never a reset.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from smoa import StopReason
from smoa_testing.load.open_loop import Answer, failed, open_loop
from smoa_testing.stacks.deployment import Deployment, FaultyLLM

pytestmark = pytest.mark.slow

REQUEST = {"n": 4, "k": 2, "max_layers": 2}


async def deployment(tmp_path: Path, llm: FaultyLLM, **options: object) -> Deployment:
    return await Deployment(tmp_path, llm, **options).start()  # type: ignore[arg-type]


@pytest.fixture
async def healthy_llm(tmp_path: Path) -> AsyncIterator[FaultyLLM]:
    llm = FaultyLLM(tmp_path / "llm.log")
    yield llm
    llm.stop()


async def test_llm_faults_fail_no_request_and_every_lost_proposer_is_flagged(tmp_path: Path) -> None:
    llm = FaultyLLM(tmp_path / "llm.log", error=0.10, hang=0.05, malformed=0.02)
    stack = await deployment(tmp_path, llm)
    try:
        answers = await open_loop(stack.target, rate=4, seconds=20, arguments=REQUEST)
        seen = llm.stats()
    finally:
        await stack.stop()
        llm.stop()
    assert not failed(answers), failed(answers)
    assert len(answers) == 80
    # The weather really was bad: every kind of fault hit the services many times.
    assert seen["error"] >= 30 and seen["hang"] >= 15 and seen["malformed"] >= 5, seen
    lost = [a for a in answers if a.result and any(layer.failures for layer in a.result.layers)]
    assert lost, "no answer lost a proposer: the faults did not reach the layers"
    for answer in answers:
        assert answer.result is not None
        for layer in answer.result.layers:
            if layer.failures:
                flagged = [(d.stage, d.layer) for d in answer.result.degradations]
                assert ("proposer", layer.layer) in flagged, (answer.index, flagged)
    assert all(a.result.degraded for a in lost if a.result)


async def test_a_frozen_proposer_replica_leaves_the_rotation_and_fails_no_request(
    tmp_path: Path, healthy_llm: FaultyLLM
) -> None:
    stack = await deployment(tmp_path, healthy_llm, count_last_proposer=True)
    frozen = stack.proposers[-1]
    froze_at: list[float] = []

    def freeze() -> None:
        frozen.signal(signal.SIGSTOP)
        froze_at.append(time.monotonic())

    try:
        answers = await open_loop(stack.target, rate=4, seconds=20, arguments=REQUEST, at={3.0: freeze})
        counter = stack.counter
        assert counter is not None
        before = len(counter.opened) - counter.opened_since(froze_at[0])
        # Two keepalive periods (1 s each here) find it; give it as much again.
        after_ejection = counter.opened_since(froze_at[0] + 4.0)
    finally:
        frozen.signal(signal.SIGCONT)
        await stack.stop()
    assert not failed(answers), failed(answers)
    assert before > 0, "the replica got no calls before it froze: the test proves nothing"
    assert after_ejection == 0, (
        f"{after_ejection} calls reached the frozen replica after it was out of rotation"
    )
    # Requests after that pay nothing for it: no layer waits for the frozen replica (its calls would hold a
    # layer for their whole budget, over ten seconds here).
    late = [
        layer.timings["proposer"] for a in answers if a.result and a.due > 7.0 for layer in a.result.layers
    ]
    assert late and max(late) < 3.0, max(late)


async def probe(address: str) -> str:
    """One health check of the orchestrator's service on a connection of its own, like a load balancer."""
    try:
        async with grpc.aio.insecure_channel(address) as channel:
            request = health_pb2.HealthCheckRequest(service="smoa.v1.OrchestratorService")
            reply = await health_pb2_grpc.HealthStub(channel).Check(request, timeout=0.5)
            return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))
    except grpc.aio.AioRpcError as e:
        return e.code().name


async def test_sigterm_to_an_orchestrator_and_a_proposer_under_load_loses_nothing(tmp_path: Path) -> None:
    # Every reply 0.2 s late: each request takes over a second, so several are in flight when the signals
    # arrive (and the two proposer replicas left still have the capacity for the load).
    llm = FaultyLLM(tmp_path / "llm.log", slow_seconds=0.2, slow=1.0)
    stack = await deployment(tmp_path, llm)
    leaving, proposer = stack.orchestrators[0], stack.proposers[0]
    seen: list[str] = []
    try:
        prober = asyncio.ensure_future(watch(leaving.address, seen))
        at = {6.0: lambda: leaving.signal(signal.SIGTERM), 9.0: lambda: proposer.signal(signal.SIGTERM)}
        answers = await open_loop(stack.target, rate=4, seconds=16, arguments=REQUEST, at=at)
        codes = [await asyncio.to_thread(r.wait, 30) for r in (leaving, proposer)]
        prober.cancel()
        orchestrator_log, proposer_log = stack.log_of(leaving), stack.log_of(proposer)
    finally:
        await stack.stop()
        llm.stop()
    assert not failed(answers), failed(answers)
    assert codes == [0, 0], (orchestrator_log[-2000:], proposer_log[-2000:])
    # Both drained work that was in flight, and had none left to cut.
    for log in (orchestrator_log, proposer_log):
        assert "draining" in log and " 0 RPC(s) in flight" not in log.split("draining", 1)[1].split("\n")[0]
    # The prober saw NOT_SERVING (the port still open) before the port closed (UNAVAILABLE).
    assert "NOT_SERVING" in seen and "UNAVAILABLE" in seen, seen
    assert seen.index("NOT_SERVING") < seen.index("UNAVAILABLE")
    assert seen[: seen.index("NOT_SERVING")] == ["SERVING"] * seen.index("NOT_SERVING")


async def watch(address: str, seen: list[str]) -> None:
    while True:
        state = await probe(address)
        # A probe with no answer in time (a busy 2-core machine) says nothing about the state: skipped.
        if state != "DEADLINE_EXCEEDED" and (not seen or seen[-1] != state):
            seen.append(state)
        await asyncio.sleep(0.05)


async def test_a_generation_longer_than_the_grace_answers_in_time_or_fails_clearly(tmp_path: Path) -> None:
    # Every LLM call takes 0.4 s: a 3-layer generation takes about 4 s, and the grace is 2.5 s.
    llm = FaultyLLM(tmp_path / "llm.log", slow_seconds=0.4, slow=1.0)
    settings = {"llm_max_retries": "3", "drain_delay_seconds": "0", "grace_seconds": "2.5"}
    stack = await deployment(tmp_path, llm, settings=settings)
    leaving = stack.orchestrators[0]
    try:
        at = {0.5: lambda: leaving.signal(signal.SIGTERM)}
        answers = await open_loop(
            f"ipv4:{leaving.address}", rate=4, seconds=0.5, arguments={**REQUEST, "max_layers": 3}, at=at
        )
        code = await asyncio.to_thread(leaving.wait, 30)
    finally:
        await stack.stop()
        llm.stop()
    assert code == 0 and len(answers) == 2
    for answer in answers:
        assert outcome(answer) in {"answered before the grace ran out", "SHUTTING_DOWN"}, answer
    assert any(a.ok for a in answers), [outcome(a) for a in answers]


def outcome(answer: Answer) -> str:
    if answer.result is not None:
        stopped_early = answer.result.stop_reason is StopReason.DEADLINE
        flagged = any(d.stage == "deadline" for d in answer.result.degradations)
        return (
            "answered before the grace ran out"
            if stopped_early and flagged
            else str(answer.result.stop_reason)
        )
    assert answer.error is not None
    return answer.error.reason or answer.error.code


async def test_a_slow_proposer_replica_is_ejected_and_fails_no_request(
    tmp_path: Path, healthy_llm: FaultyLLM
) -> None:
    # One replica's LLM takes 3 s a reply, the others' are instant: its calls are cut off as stragglers,
    # and outlier detection counts every cut-off call as a failure of that replica.
    slow = FaultyLLM(tmp_path / "slow-llm.log", slow_seconds=3.0, slow=1.0)
    stack = await deployment(tmp_path, healthy_llm, count_last_proposer=True, last_proposer_llm=slow)
    try:
        started = time.monotonic()
        answers = await open_loop(stack.target, rate=5, seconds=12, arguments=REQUEST)
        counter = stack.counter
        assert counter is not None
        early, late = (
            len(counter.opened) - counter.opened_since(started + 5),
            counter.opened_since(started + 5),
        )
    finally:
        await stack.stop()
        slow.stop()
    assert not failed(answers), failed(answers)
    assert early > 0, "the slow replica got no calls at all: the test proves nothing"
    assert late == 0, f"{late} calls reached the slow replica after it should have been ejected"
    # Cut off at the straggler wait, the slow replica never held a layer back for its 3 s (after the first
    # second: until the channels to the other replicas are up, round_robin has only the ones connected).
    proposing = [
        layer.timings["proposer"] for a in answers if a.result and a.due > 1.0 for layer in a.result.layers
    ]
    assert max(proposing) < 3.0, max(proposing)
