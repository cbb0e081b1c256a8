"""No field of OpenAI's chat-completions request is silently dropped: every field of the openai SDK's own
request type has a line in openai_fields.py, and the gateway refuses by name, with 400 and `param`, what
it cannot honour (and accepts the values that ask for nothing), through the official SDK."""

from __future__ import annotations

import typing
from typing import Any

import openai
import pytest
from openai.types.chat import completion_create_params

from smoa_services.gateway import openai_fields
from smoa_services.gateway.bad_field import BadField
from smoa_services.gateway.chat_request import chat_request
from smoa_testing.fake_llm.instant_llm import instant_reply
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.stacks.in_process_gateway import gateway, openai_client
from smoa_testing.stacks.orchestrator_stack import orchestrator_stack

# The request type every chat.completions.create call is checked against, and its streaming twin's own.
OPENAI_FIELDS = set(typing.get_type_hints(completion_create_params.CompletionCreateParamsBase)) | set(
    typing.get_type_hints(completion_create_params.CompletionCreateParamsStreaming)
)
ASK: dict[str, Any] = {"model": "smoa", "messages": [{"role": "user", "content": "hi"}]}
# A value for each refused field that a client would really send.
REFUSED_VALUES: dict[str, Any] = {
    "functions": [{"name": "f", "parameters": {"type": "object"}}],
    "function_call": "auto",
    "logprobs": True,
    "top_logprobs": 3,
    "logit_bias": {"50256": -100},
    "audio": {"voice": "alloy", "format": "wav"},
    "prediction": {"type": "content", "content": "x"},
    "web_search_options": {},
    "reasoning_effort": "low",
    "verbosity": "low",
    "moderation": {"mode": "auto"},
}
NOT_NEUTRAL: dict[str, Any] = {
    "n": 2,
    "top_p": 0.5,
    "frequency_penalty": 0.5,
    "presence_penalty": -1,
    "store": True,
    "modalities": ["text", "audio"],
}


def test_every_field_openai_defines_has_a_treatment() -> None:
    unclassified = sorted(OPENAI_FIELDS - openai_fields.KNOWN)
    assert not unclassified, (
        f"fields of OpenAI's request the gateway does not say what it does with: {unclassified}"
    )
    # Each in one class only.
    classes = [
        openai_fields.HONOURED,
        openai_fields.RECORDED,
        set(openai_fields.NEUTRAL),
        openai_fields.INERT,
        set(openai_fields.REFUSED),
    ]
    assert sum(len(c) for c in classes) == len(openai_fields.KNOWN)
    assert set(REFUSED_VALUES) == set(openai_fields.REFUSED) and set(NOT_NEUTRAL) == set(
        openai_fields.NEUTRAL
    )


@pytest.mark.parametrize("name", sorted(openai_fields.REFUSED))
def test_a_refused_field_is_named(name: str) -> None:
    with pytest.raises(BadField) as refused:
        chat_request({**ASK, name: REFUSED_VALUES[name]})
    assert refused.value.param == name and refused.value.status == 400


@pytest.mark.parametrize("name", sorted(openai_fields.NEUTRAL))
def test_a_neutral_field_is_accepted_at_its_neutral_values_only(name: str) -> None:
    for value in openai_fields.NEUTRAL[name]:
        chat_request({**ASK, name: value})
    with pytest.raises(BadField) as refused:
        chat_request({**ASK, name: NOT_NEUTRAL[name]})
    assert refused.value.param == name


def test_null_is_not_given() -> None:
    chat_request({**ASK, **dict.fromkeys(openai_fields.KNOWN - {"model", "messages"})})


async def test_the_sdk_reads_each_refusal_as_a_bad_request_naming_the_field() -> None:
    with FakeOpenAI(instant_reply) as llm:
        async with orchestrator_stack(llm.base_url) as stack, gateway(stack.port) as url:
            client = openai_client(url)
            named = {}
            for name, value in {**REFUSED_VALUES, **NOT_NEUTRAL}.items():
                with pytest.raises(openai.BadRequestError) as refused:
                    await client.chat.completions.create(**ASK, extra_body={name: value})
                named[name] = (
                    refused.value.body.get("param") if isinstance(refused.value.body, dict) else None
                )
            # The neutral values and the inert hints go through to an answer.
            reply = await client.chat.completions.create(
                **ASK, n=1, top_p=1, store=False, service_tier="auto", prompt_cache_key="k"
            )
    assert named == {name: name for name in named}
    assert reply.choices[0].message.content
