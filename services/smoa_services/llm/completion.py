"""What an LLM call gives back: the answer, read from the backend's body, and what it cost, counted over
every attempt the call sent."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import openai

from smoa_services.llm.backend_error import MalformedReply

Message = Mapping[str, str]


@dataclass(frozen=True)
class Completion:
    text: str
    input_tokens: int
    output_tokens: int
    # True when any count was estimated: the backend reported no usage, or an attempt was abandoned after
    # it was sent (a hedge that lost, one that hung) and its prompt is counted as billed.
    estimated: bool
    model: str
    finish_reason: str
    latency: float
    # Requests sent to the backend for this answer (retries and hedges included).
    calls: int = 1


def clean_text(text: str) -> str:
    """Valid UTF-8 whatever a backend sent: a lone surrogate (which no protobuf string may hold) becomes
    "?", so an LLM's odd output can degrade an answer but never fail a request."""
    return text.encode("utf-8", "replace").decode("utf-8")


def estimate_tokens(text: str) -> int:
    # About four characters a token for English with BPE vocabularies; only used when usage is missing.
    return math.ceil(len(text) / 4)


@dataclass(frozen=True)
class Reply:
    text: str
    finish: str
    model: str
    usage: tuple[int, int] | None


class SentAttempts:
    """Which attempts of a call reached the backend, and which of those may have been billed (no HTTP
    error came back: they were answered, or abandoned while the backend worked on them)."""

    def __init__(self) -> None:
        self.count = 0
        self.refused = 0

    def unbilled(self, error: BaseException) -> None:
        if isinstance(error, openai.APIStatusError):
            self.refused += 1

    def completion(self, request: Mapping[str, Any], reply: Reply, latency: float) -> Completion:
        """The answer with what it cost: the backend's usage (estimated when it reports none), plus the
        estimated prompt of every other attempt that may have been billed."""
        prompt = estimate_prompt(request["messages"])
        extra = max(0, self.count - self.refused - 1)
        return Completion(
            text=reply.text,
            input_tokens=(reply.usage[0] if reply.usage else prompt) + extra * prompt,
            output_tokens=reply.usage[1] if reply.usage else estimate_tokens(reply.text),
            estimated=reply.usage is None or extra > 0,
            model=reply.model or request["model"],
            finish_reason=reply.finish,
            latency=latency,
            calls=self.count,
        )


def read_completion(body: object) -> Reply:
    """The parts of a chat.completion body smoa uses; MalformedReply for anything else."""
    choices = body.get("choices") if isinstance(body, dict) else None
    first = choices[0] if isinstance(choices, list) and choices else None
    message = first.get("message") if isinstance(first, dict) else None
    text = message.get("content") if isinstance(message, dict) else None
    if not isinstance(body, dict) or not isinstance(first, dict) or not isinstance(text, str | None):
        raise MalformedReply(f"not a chat completion (a JSON {type(body).__name__})")
    finish, model = str(first.get("finish_reason") or ""), str(body.get("model") or "")
    return Reply(clean_text(text or ""), clean_text(finish), clean_text(model), _counts(body.get("usage")))


@dataclass(frozen=True)
class Chunk:
    """The parts of one chat.completion.chunk smoa uses: pieces of text, and what the last chunks say."""

    pieces: list[str]
    finish: str
    model: str
    usage: tuple[int, int] | None


def read_chunk(chunk: object) -> Chunk:
    """One streamed chunk as JSON (not the SDK's typed model: a request streams dozens); MalformedReply
    for what is not one."""
    choices = chunk.get("choices") if isinstance(chunk, dict) else None
    if not isinstance(chunk, dict) or not isinstance(choices, list):
        raise MalformedReply(f"not a chat completion chunk (a JSON {type(chunk).__name__})")
    pieces, finish = [], ""
    for choice in choices:
        delta = choice.get("delta") if isinstance(choice, dict) else None
        content = delta.get("content") if isinstance(delta, dict) else None
        if isinstance(content, str) and content:
            pieces.append(clean_text(content))
        if isinstance(choice, dict) and choice.get("finish_reason"):
            finish = clean_text(str(choice["finish_reason"]))
    return Chunk(pieces, finish, clean_text(str(chunk.get("model") or "")), _counts(chunk.get("usage")))


def _counts(usage: object) -> tuple[int, int] | None:
    if isinstance(usage, dict) and isinstance(usage.get("prompt_tokens"), int):
        completion_tokens = usage.get("completion_tokens")
        return usage["prompt_tokens"], completion_tokens if isinstance(completion_tokens, int) else 0
    return None


def estimate_prompt(messages: Sequence[Message]) -> int:
    # Chat templates add a few tokens of framing per message.
    return sum(estimate_tokens(m.get("content", "")) + 4 for m in messages)
