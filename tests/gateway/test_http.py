"""The gateway over plain HTTP with aiohttp's client: the model list, liveness and readiness, SSE framing
as any SSE parser reads it, and a client that goes away cancelling the whole fan-out."""

from __future__ import annotations

import asyncio
import json

import aiohttp

from smoa_services.judge import prompt as judge_prompt
from smoa_services.orchestrator.prompt import AGGREGATOR_PROMPT
from smoa_testing.fake_llm.callers import by_caller
from smoa_testing.fake_llm.chat_script import Reply, system_prompt
from smoa_testing.fake_llm.instant_llm import instant_reply
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.stacks.in_process_gateway import gateway
from smoa_testing.stacks.orchestrator_stack import orchestrator_stack

ASK = {"model": "smoa:n=2,k=1,layers=1", "messages": [{"role": "user", "content": "What is 6 times 7?"}]}


async def test_models_liveness_and_readiness() -> None:
    with FakeOpenAI(instant_reply) as llm:
        async with (
            orchestrator_stack(llm.base_url) as stack,
            gateway(stack.port) as url,
            aiohttp.ClientSession(url) as http,
        ):
            async with http.get("/v1/models") as models:
                listed = [m["id"] for m in (await models.json())["data"]]
            async with http.get("/healthz") as live, http.get("/readyz") as ready:
                statuses = (live.status, ready.status)
    assert listed == ["smoa", "smoa-fused", "smoa-separate", "moa", "single", "auto"]
    assert statuses == (200, 200)
    # With nothing behind it, the gateway is alive but not ready.
    async with (
        gateway(1) as url,
        aiohttp.ClientSession(url) as http,
        http.get("/healthz") as live,
        http.get("/readyz") as ready,
    ):
        assert (live.status, ready.status) == (200, 503)


async def test_a_stream_is_server_sent_events_ending_in_done() -> None:
    with FakeOpenAI(instant_reply) as llm:
        async with (
            orchestrator_stack(llm.base_url) as stack,
            gateway(stack.port) as url,
            aiohttp.ClientSession(url) as http,
            http.post("/v1/chat/completions", json={**ASK, "stream": True}) as reply,
        ):
            kind = reply.headers["Content-Type"]
            raw = (await reply.read()).decode()
    assert kind.startswith("text/event-stream")
    events = [e for e in raw.split("\n\n") if e]
    assert all(e.startswith(("data: ", ": progress ")) and "\n" not in e for e in events)
    data = [e.removeprefix("data: ") for e in events if e.startswith("data: ")]
    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and "smoa" in chunks[-1]
    assert any(e.startswith(": progress STAGE_PROPOSALS_DONE") for e in events)


slow_proposals = by_caller(
    proposer=lambda request: Reply("A proposal", delay=2.0),
    judge=instant_reply,
    moderator=instant_reply,
    aggregator=instant_reply,
)


async def test_a_client_that_goes_away_cancels_the_fan_out() -> None:
    """Proposers take 2 s. The client leaves while they are at work; had the call gone on, the judge and
    the aggregator would have been asked once the proposals were in."""
    with FakeOpenAI(slow_proposals) as llm:
        async with orchestrator_stack(llm.base_url) as stack, gateway(stack.port) as url:
            request = {**ASK, "model": "smoa:n=2,k=1,layers=2", "stream": True}
            async with (
                aiohttp.ClientSession(url) as http,
                http.post("/v1/chat/completions", json=request) as reply,
            ):
                await reply.content.readline()  # the stream has begun
                while llm.in_flight < 2:  # and both proposals are being written
                    await asyncio.sleep(0.01)
            await asyncio.sleep(3.5)
        asked = [system_prompt(r) for r in llm.requests]
    assert len(asked) == 2, "only the two proposals were ever asked"
    assert not [s for s in asked if s.startswith((judge_prompt.SYSTEM, AGGREGATOR_PROMPT))]


async def test_a_body_that_is_not_json_or_not_text_is_400() -> None:
    """Found by schemathesis: bytes that are not UTF-8 made the JSON reader raise, and the gateway 500."""
    with FakeOpenAI(instant_reply) as llm:
        async with orchestrator_stack(llm.base_url) as stack, gateway(stack.port) as url:
            statuses = []
            async with aiohttp.ClientSession(url) as http:
                for raw in (b"\xff\xfe{", b"{not json", b"[]", b""):
                    headers = {"Content-Type": "application/json"}
                    async with http.post("/v1/chat/completions", data=raw, headers=headers) as reply:
                        statuses.append((reply.status, (await reply.json())["error"]["type"]))
    assert statuses == [(400, "invalid_request_error")] * 4


async def test_with_no_orchestrator_a_completion_is_503_at_once() -> None:
    async with (
        gateway(1) as url,
        aiohttp.ClientSession(url) as http,
        http.post("/v1/chat/completions", json=ASK) as reply,
    ):
        assert reply.status == 503
        assert (await reply.json())["error"]["type"] == "service_unavailable"


async def test_a_client_that_leaves_before_its_completion_cancels_the_fan_out() -> None:
    """The same for a completion that is not streamed: the gateway has nothing to write until the end,
    so it watches the connection while it waits."""
    with FakeOpenAI(slow_proposals) as llm:
        async with orchestrator_stack(llm.base_url) as stack, gateway(stack.port) as url:
            request = {**ASK, "model": "smoa:n=2,k=1,layers=2"}
            async with aiohttp.ClientSession(url) as http:
                asking = asyncio.ensure_future(http.post("/v1/chat/completions", json=request))
                while llm.in_flight < 2:
                    await asyncio.sleep(0.01)
                asking.cancel()  # the connection is closed with the request unanswered
                await asyncio.gather(asking, return_exceptions=True)
            await asyncio.sleep(3.5)
            # The orchestrator's RPC ended as cancelled, not as an answer nobody read.
            assert not stack.finished("smoa.layer 2")
        asked = [system_prompt(r) for r in llm.requests]
    assert len(asked) == 2, "only the two proposals were ever asked"
