"""The official openai SDK, pointed at the gateway in front of a real stack (the four services on
127.0.0.1, the scripted LLM endpoint answering at once): completions and streams, parameters in the model
name and in extra_body, and usage that is the whole pipeline's, equal to the gRPC summary's cost."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import openai
import pytest

from smoa.v1 import orchestrator_pb2
from smoa_testing.fake_llm.chat_script import Reply
from smoa_testing.fake_llm.instant_llm import instant_reply
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.stacks.in_process_gateway import gateway, openai_client
from smoa_testing.stacks.orchestrator_stack import orchestrator_stack, question

QUESTION = "What is 6 times 7?"


async def test_a_completion_is_the_pipelines_answer_with_its_whole_usage() -> None:
    with FakeOpenAI(instant_reply) as llm:
        async with orchestrator_stack(llm.base_url) as stack, gateway(stack.port) as url:
            direct = await stack.stub.Generate(
                orchestrator_pb2.GenerateRequest(messages=question(QUESTION), n=3, k=2, max_layers=2),
                timeout=30,
            )
            reply = await openai_client(url).chat.completions.create(
                model="smoa:n=3,k=2,layers=2", messages=[{"role": "user", "content": QUESTION}]
            )
    assert reply.object == "chat.completion" and reply.model == "smoa:n=3,k=2,layers=2"
    assert reply.choices[0].message.content == direct.text
    assert reply.usage is not None
    total = direct.cost.total
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (
        total.input_tokens,
        total.output_tokens,
    )
    assert reply.usage.total_tokens == total.input_tokens + total.output_tokens > 0
    extension = reply.model_extra["smoa"] if reply.model_extra else {}
    assert len(extension["layers"]) == 2 and extension["stop_reason"] == "STOP_REASON_MAX_LAYERS"


async def test_a_stream_sends_tokens_as_they_come_and_a_usage_chunk_equal_to_the_summary() -> None:
    with FakeOpenAI(instant_reply) as llm:
        async with orchestrator_stack(llm.base_url) as stack, gateway(stack.port) as url:
            stream = await openai_client(url).chat.completions.create(
                model="moa",
                messages=[{"role": "user", "content": QUESTION}],
                stream=True,
                stream_options={"include_usage": True},
                extra_body={"smoa": {"n": 3, "max_layers": 1}},
            )
            chunks = [c async for c in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    *_, last, usage = chunks
    assert last.choices[0].finish_reason == "stop" and not usage.choices and usage.usage is not None
    summary = last.model_extra["smoa"] if last.model_extra else {}
    assert summary["mode"] == "MODE_MOA" and len(summary["layers"]) == 1
    assert len(summary["layers"][0]["candidates"]) == 3
    assert text and len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 1
    total = summary["cost"]["total"]
    assert usage.usage.prompt_tokens == int(total["input_tokens"])
    assert usage.usage.completion_tokens == int(total["output_tokens"])


def test_the_sync_client_works_too() -> None:
    async def run() -> str | None:
        with FakeOpenAI(instant_reply) as llm:
            async with orchestrator_stack(llm.base_url) as stack, gateway(stack.port) as url:
                sync = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)

                def ask() -> str | None:
                    reply = sync.chat.completions.create(
                        model="single", messages=[{"role": "user", "content": QUESTION}]
                    )
                    return reply.choices[0].message.content

                # In a thread: the sync client blocks, and the stack serves on this loop.
                return await asyncio.to_thread(ask)

    assert asyncio.run(run())


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"model": "smoa:n=lots"}, "model"),
        ({"tools": [{"type": "function", "function": {"name": "not a name"}}]}, "tools"),
        ({"n": 2}, "n"),
        ({"extra_body": {"smoa": {"n": 1000}}}, "n"),  # refused by the orchestrator, named by it
        ({"extra_body": {"smoa": {"no_such_field": 1}}}, "smoa"),
        # Refused by the orchestrator, named as the client named it.
        ({"max_tokens": 10**9}, "max_tokens"),
        ({"max_completion_tokens": 10**9}, "max_completion_tokens"),
        ({"temperature": 2.5}, "temperature"),
        ({"model": "smoa:n=1000"}, "model"),
    ],
)
async def test_bad_requests_are_400_naming_the_field(fields: dict[str, Any], param: str) -> None:
    with FakeOpenAI(instant_reply) as llm:
        async with orchestrator_stack(llm.base_url) as stack, gateway(stack.port) as url:
            arguments: dict[str, Any] = {"model": "smoa", "messages": [{"role": "user", "content": "hi"}]}
            with pytest.raises(openai.BadRequestError) as refused:
                await openai_client(url).chat.completions.create(**{**arguments, **fields})
    assert refused.value.status_code == 400
    assert isinstance(refused.value.body, dict) and refused.value.body.get("param") == param


async def test_the_api_key_is_the_orchestrators_bearer_token(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text("alice alice-key\n")
    ask: dict[str, Any] = {"model": "single", "messages": [{"role": "user", "content": QUESTION}]}
    with FakeOpenAI(instant_reply) as llm:
        async with (
            orchestrator_stack(llm.base_url, auth_tokens_file=str(tokens)) as stack,
            gateway(stack.port) as url,
        ):
            answered = await openai_client(url, api_key="alice-key").chat.completions.create(**ask)
            with pytest.raises(openai.AuthenticationError):
                await openai_client(url, api_key="mallory-key").chat.completions.create(**ask)
    assert answered.choices[0].message.content


async def test_a_client_timeout_is_the_sdks_api_timeout_error_and_cancels_the_fan_out() -> None:
    with FakeOpenAI(lambda request: Reply(text="late", delay=30.0)) as llm:
        async with orchestrator_stack(llm.base_url) as stack, gateway(stack.port) as url:
            impatient = openai_client(url, timeout=0.5)
            with pytest.raises(openai.APITimeoutError):
                await impatient.chat.completions.create(
                    model="single", messages=[{"role": "user", "content": QUESTION}]
                )
            # The client left: the gateway cancels the call, and the LLM call behind it is abandoned.
            for _ in range(50):
                if llm.in_flight == 0:
                    break
                await asyncio.sleep(0.1)
            assert llm.in_flight == 0 and len(llm.calls()) == 1
