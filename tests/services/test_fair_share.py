"""One caller's slow requests do not starve another's. Alice sends 8 requests whose every LLM call takes
seconds; Bob, another authenticated caller, then asks something quick. The orchestrator passes each
request's caller on to its peers, and every service shares its LLM slots by that caller, so Bob's calls
find slots free: his request is answered while every one of Alice's is still waiting on its first calls.
The control shows what the share prevents: with no slots kept from Alice, Bob waits for her calls."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from smoa.v1 import orchestrator_pb2
from smoa_services import proposer
from smoa_services.access.caller import END_CALLER
from smoa_services.config import Settings
from smoa_services.llm import ChatModel
from smoa_services.platform.server import Server
from smoa_services.telemetry import Telemetry
from smoa_testing.fake_llm.chat_script import Reply, last_user
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.stacks.orchestrator_stack import REAL_PEERS, orchestrator_stack, question

SLOW_SECONDS = 3.0


def backend(request: dict[str, Any]) -> Reply:
    prompt = " ".join(str(m.get("content", "")) for m in request.get("messages", []))
    delay = SLOW_SECONDS if "slowly" in prompt else 0.0
    return Reply(f"An answer to {last_user(request)[-40:]}", delay=delay)


def generate(text: str) -> orchestrator_pb2.GenerateRequest:
    return orchestrator_pb2.GenerateRequest(messages=question(text), n=2, k=1, max_layers=1)


async def bob_after_alice(tmp_path: Path, slots_per_caller: int) -> tuple[float, int]:
    """Bob's latency, and how many of Alice's 8 requests were still in flight when he had his answer."""
    tokens = tmp_path / "tokens"
    tokens.write_text("alice alice-token\nbob bob-token\n")
    as_alice, as_bob = (("authorization", "Bearer alice-token"),), (("authorization", "Bearer bob-token"),)
    slots: dict[str, Any] = {"llm_concurrency": 4, "llm_slots_per_caller": slots_per_caller}
    with FakeOpenAI(backend) as fake:
        async with orchestrator_stack(
            fake.base_url,
            llm_timeout_seconds=30,
            peer_settings=slots,
            auth_tokens_file=str(tokens),
            **slots,
        ) as stack:
            alice = [
                asyncio.ensure_future(
                    stack.stub.Generate(generate(f"Think slowly, {i}"), metadata=as_alice, timeout=60)
                )
                for i in range(8)
            ]
            while fake.in_flight < min(slots_per_caller, 4):
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.2)  # the rest of Alice's calls queue behind her first ones
            started = time.monotonic()
            reply = await stack.stub.Generate(generate("Quick: 2 + 2?"), metadata=as_bob, timeout=30)
            elapsed = time.monotonic() - started
            still_waiting = sum(not task.done() for task in alice)
            assert not reply.degraded and reply.text
            for task in alice:
                task.cancel()
            await asyncio.gather(*alice, return_exceptions=True)
    return elapsed, still_waiting


async def test_one_callers_slow_requests_do_not_delay_another_callers_request(tmp_path: Path) -> None:
    elapsed, still_waiting = await bob_after_alice(tmp_path, slots_per_caller=2)
    assert still_waiting == 8
    assert elapsed < SLOW_SECONDS  # he waited for none of her calls


async def test_control_without_slots_kept_from_one_caller_the_other_waits(tmp_path: Path) -> None:
    elapsed, _ = await bob_after_alice(tmp_path, slots_per_caller=4)
    assert elapsed > SLOW_SECONDS / 2


class RecordingChat(ChatModel):
    """The proposer's real ChatModel, noting whom each call's work is for."""

    def __init__(self, settings: Settings, telemetry: Telemetry, seen: list[str]):
        super().__init__(settings, telemetry)
        self.seen = seen

    async def complete(self, *args: Any, **kwargs: Any) -> Any:
        self.seen.append(END_CALLER.get())
        return await super().complete(*args, **kwargs)


async def test_the_orchestrator_names_the_end_caller_and_a_caller_cannot_name_another(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text("alice alice-token\n")
    seen: list[str] = []

    def recording_proposer(settings: Settings, telemetry: Telemetry, _: ChatModel | None) -> Server:
        return proposer.create_server(settings, telemetry, RecordingChat(settings, telemetry, seen))

    peers = {**REAL_PEERS, "proposer": recording_proposer}
    posing = (("authorization", "Bearer alice-token"), ("smoa-end-caller", "bob"))
    with FakeOpenAI(backend) as fake:
        async with orchestrator_stack(fake.base_url, peers, auth_tokens_file=str(tokens)) as stack:
            await stack.stub.Generate(generate("Quick: 2 + 2?"), metadata=posing, timeout=30)
    assert seen and set(seen) == {"alice"}
