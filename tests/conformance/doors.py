"""The two ways in, behind one face: a question and GenerateOptions' keywords in, an Answer (or Refused)
out. The gRPC door is the SDK's AsyncSmoaClient; the HTTP door is the openai SDK against the gateway,
with the mode in `model` and the other options in the body's `smoa` object, as a backend's own code
would send them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any, Protocol

import openai

from smoa import AsyncSmoaClient, InvalidArgumentError, Summary, Token


@dataclass(frozen=True)
class Answer:
    """What either door says of one generation."""

    text: str
    mode: str  # smoa, moa, single, auto
    layers: int
    stop_reason: str  # fixed_layers, max_layers, consensus, moderator, token_budget, deadline
    input_tokens: int
    output_tokens: int
    degraded: bool


class Refused(Exception):
    """A request the door refused as invalid, and the field it named."""

    def __init__(self, field: str):
        super().__init__(field)
        self.field = field


class Door(Protocol):
    name: str

    async def ask(self, question: str, **options: Any) -> Answer: ...

    def stream(self, question: str, **options: Any) -> AsyncIterator[str | Answer]:
        """Each piece of text as it comes, then the Answer."""
        ...


def refused_field(error: InvalidArgumentError | ValueError) -> str:
    """The field the service's INVALID_ARGUMENT names, or the SDK's own check before any call
    ("k: must be <= n (2), got 3")."""
    if isinstance(error, InvalidArgumentError):
        return error.violations[0].field if error.violations else ""
    return str(error).partition(":")[0]


class GrpcDoor:
    name = "grpc"

    def __init__(self, client: AsyncSmoaClient):
        self.client = client

    async def ask(self, question: str, **options: Any) -> Answer:
        try:
            return self._answer(await self.client.generate(question, **options))
        except (InvalidArgumentError, ValueError) as e:
            raise Refused(refused_field(e)) from e

    async def stream(self, question: str, **options: Any) -> AsyncIterator[str | Answer]:
        try:
            async with aclosing(self.client.stream(question, **options)) as events:
                async for event in events:
                    if isinstance(event, Token):
                        yield event.text
                    elif isinstance(event, Summary):
                        yield self._answer(event.result)
        except (InvalidArgumentError, ValueError) as e:
            raise Refused(refused_field(e)) from e

    @staticmethod
    def _answer(result: Any) -> Answer:
        total = result.cost.total
        return Answer(
            result.text,
            result.mode.value,
            len(result.layers),
            result.stop_reason.value,
            total.input_tokens,
            total.output_tokens,
            result.degraded,
        )


def param_of(error: openai.BadRequestError) -> str:
    """The field OpenAI's error object names."""
    body = error.body if isinstance(error.body, dict) else {}
    return str(body.get("param") or "")


# GenerateOptions' keywords that the body's `smoa` object takes under other names (protobuf's).
WIRE_NAMES = {"fused": "fused_judge_moderator"}


class HttpDoor:
    name = "http"

    def __init__(self, client: openai.AsyncOpenAI):
        self.client = client

    def _body(self, question: str, options: dict[str, Any]) -> dict[str, Any]:
        options = dict(options)
        mode = options.pop("mode", "smoa")
        body: dict[str, Any] = {"model": mode, "messages": [{"role": "user", "content": question}]}
        for openai_name in ("stop", "seed"):
            if openai_name in options:
                body[openai_name] = options.pop(openai_name)
        body["extra_body"] = {"smoa": {WIRE_NAMES.get(k, k): v for k, v in options.items()}}
        return body

    async def ask(self, question: str, **options: Any) -> Answer:
        try:
            reply = await self.client.chat.completions.create(**self._body(question, options))
        except openai.BadRequestError as e:
            raise Refused(param_of(e)) from e
        usage = reply.usage
        return self._answer(
            reply.choices[0].message.content or "",
            (reply.model_extra or {}).get("smoa", {}),
            usage.prompt_tokens if usage else 0,
            usage.completion_tokens if usage else 0,
        )

    async def stream(self, question: str, **options: Any) -> AsyncIterator[str | Answer]:
        body = self._body(question, options)
        try:
            chunks = await self.client.chat.completions.create(
                **body, stream=True, stream_options={"include_usage": True}
            )
        except openai.BadRequestError as e:
            raise Refused(param_of(e)) from e
        text: list[str] = []
        summary: dict[str, Any] = {}
        usage = None
        async with chunks as pieces:
            async for chunk in pieces:
                for choice in chunk.choices:
                    if choice.delta.content:
                        text.append(choice.delta.content)
                        yield choice.delta.content
                summary = (chunk.model_extra or {}).get("smoa") or summary
                usage = chunk.usage or usage
        yield self._answer(
            "".join(text),
            summary,
            usage.prompt_tokens if usage else 0,
            usage.completion_tokens if usage else 0,
        )

    @staticmethod
    def _answer(text: str, summary: dict[str, Any], input_tokens: int, output_tokens: int) -> Answer:
        """The gateway's `smoa` extension is the gRPC summary in protobuf's JSON mapping."""
        return Answer(
            text,
            str(summary.get("mode", "MODE_SMOA")).removeprefix("MODE_").lower(),
            len(summary.get("layers", [])),
            str(summary.get("stop_reason", "")).removeprefix("STOP_REASON_").lower(),
            input_tokens,
            output_tokens,
            bool(summary.get("degraded", False)),
        )
