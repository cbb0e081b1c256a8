"""One caller within its share at the orchestrator cannot starve another at the peers. Each peer admits
calls by end caller (the orchestrator passes its caller on), and the orchestrator bounds the n of one
caller's requests in flight. Alice floods with slow requests; Bob, another authenticated caller, then asks
something quick. Real services, a scripted model whose calls for Alice take seconds."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import grpc
import pytest

from smoa.v1 import orchestrator_pb2
from smoa_services.orchestrator.proposer_load import ProposerLoad
from smoa_services.platform.admission import Overloaded
from smoa_testing.fake_llm.chat_script import Reply, last_user
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.stacks.orchestrator_stack import orchestrator_stack, question

ALICE, BOB = (("authorization", "Bearer alice-token"),), (("authorization", "Bearer bob-token"),)


def backend(request: dict[str, Any]) -> Reply:
    slow = "slowly" in " ".join(str(m.get("content", "")) for m in request.get("messages", []))
    return Reply(f"An answer to {last_user(request)[-40:]}", delay=3.0 if slow else 0.0)


def generate(text: str, n: int) -> orchestrator_pb2.GenerateRequest:
    # Quorum 1: a request some of whose calls were refused keeps the others in flight (at a quorum out of
    # reach it would cancel them, and free room for Bob by chance).
    return orchestrator_pb2.GenerateRequest(messages=question(text), n=n, k=1, max_layers=1, quorum=1)


async def bob_during_alices_flood(
    tmp_path: Path, peer_share: int, front_door: int
) -> tuple[orchestrator_pb2.GenerateResponse | grpc.aio.AioRpcError, list[Any]]:
    """Bob's reply (or error) while Alice's 4 requests of n = 4 (16 proposer calls) are in flight at
    proposers that take 8 calls, `peer_share` of them per end caller; and what Alice's requests got."""
    tokens = tmp_path / "tokens"
    tokens.write_text("alice alice-token\nbob bob-token\n")
    peers: dict[str, Any] = {"max_concurrent_rpcs": 8, "max_concurrent_rpcs_per_caller": peer_share}
    with FakeOpenAI(backend) as fake:
        async with orchestrator_stack(
            fake.base_url,
            llm_timeout_seconds=30,
            peer_settings={**peers, "llm_concurrency": 16},
            auth_tokens_file=str(tokens),
            max_proposers_in_flight_per_caller=front_door,
        ) as stack:
            alice = [
                asyncio.ensure_future(
                    stack.stub.Generate(generate(f"Think slowly, {i}", 4), metadata=ALICE, timeout=60)
                )
                for i in range(4)
            ]
            while fake.in_flight < min(peer_share or 8, 8, front_door or 16):
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.2)
            try:
                bob: Any = await stack.stub.Generate(generate("Quick: 2 + 2?", 2), metadata=BOB, timeout=30)
            except grpc.aio.AioRpcError as e:
                bob = e
            alices = await asyncio.gather(*alice, return_exceptions=True)
    return bob, alices


async def test_a_share_per_end_caller_at_the_peers_keeps_room_for_another_caller(tmp_path: Path) -> None:
    bob, alices = await bob_during_alices_flood(tmp_path, peer_share=4, front_door=0)
    assert isinstance(bob, orchestrator_pb2.GenerateResponse) and bob.text and not bob.degraded
    # Alice paid for her flood herself: her calls over her share were refused.
    refused = [str(a) for a in alices if isinstance(a, grpc.aio.AioRpcError)]
    refused += [
        d.reason for a in alices if isinstance(a, orchestrator_pb2.GenerateResponse) for d in a.degradations
    ]
    assert any("RESOURCE_EXHAUSTED" in r or "share" in r for r in refused), refused


async def test_control_without_a_share_the_flood_refuses_the_other_caller(tmp_path: Path) -> None:
    bob, _ = await bob_during_alices_flood(tmp_path, peer_share=0, front_door=0)
    said = bob.details() if isinstance(bob, grpc.aio.AioRpcError) else str(list(bob.degradations))
    assert "limit of 8 calls in flight" in (said or ""), said


async def test_the_front_door_bounds_the_proposers_one_caller_holds(tmp_path: Path) -> None:
    bob, alices = await bob_during_alices_flood(tmp_path, peer_share=0, front_door=4)
    assert isinstance(bob, orchestrator_pb2.GenerateResponse) and bob.text and not bob.degraded
    # One of Alice's requests (n = 4) fills her bound; the other three are refused before any call.
    refused = [a for a in alices if isinstance(a, grpc.aio.AioRpcError)]
    assert len(refused) == 3 and all(e.code() == grpc.StatusCode.RESOURCE_EXHAUSTED for e in refused)
    assert "share of 4 proposer calls in flight" in (refused[0].details() or "")
    assert sum(isinstance(a, orchestrator_pb2.GenerateResponse) and not a.degraded for a in alices) == 1


async def test_at_the_default_settings_nine_requests_of_n32_leave_room_for_another_caller(
    tmp_path: Path,
) -> None:
    """The case as first reported, with every limit at its default: one caller's 9 requests of n = 32
    (288 proposer calls, inside its 32 requests at the orchestrator) filled the proposer's 256 calls and
    refused another caller's ordinary request."""
    tokens = tmp_path / "tokens"
    tokens.write_text("alice alice-token\nbob bob-token\n")
    with FakeOpenAI(backend) as fake:
        async with orchestrator_stack(
            fake.base_url, llm_timeout_seconds=30, auth_tokens_file=str(tokens)
        ) as stack:
            alice = [
                asyncio.ensure_future(
                    stack.stub.Generate(generate(f"Think slowly, {i}", 32), metadata=ALICE, timeout=60)
                )
                for i in range(9)
            ]
            while fake.in_flight == 0:  # her admitted requests' calls have reached the backend
                await asyncio.sleep(0.01)
            bob = await stack.stub.Generate(generate("Quick: 2 + 2?", 4), metadata=BOB, timeout=30)
            refused = [a.exception() for a in alice if a.done()]
            for request in alice:
                request.cancel()  # hers take minutes, at the backend's 4 slots a process
            await asyncio.gather(*alice, return_exceptions=True)
    assert bob.text and not bob.degraded
    # The front door's 64 proposer calls per caller: two of her requests run, seven are refused at once.
    assert len(refused) == 7
    assert all(
        isinstance(e, grpc.aio.AioRpcError) and e.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        for e in refused
    )


def test_the_bound_lets_a_caller_with_nothing_in_flight_in_and_frees_what_ends() -> None:
    load = ProposerLoad(8)
    with load.admitted("alice", 32):  # larger than the bound, but alone
        with pytest.raises(Overloaded), load.admitted("alice", 1):
            pass
        with load.admitted("bob", 8), load.admitted("", 100):  # unknown callers are not bounded here
            pass
    with load.admitted("alice", 4), load.admitted("alice", 4):
        assert load.by_caller["alice"] == 8
    assert not load.by_caller
