"""OpenAI's shapes for what the orchestrator answered: a chat.completion, or chat.completion.chunk events.

Usage is the whole pipeline's, every LLM call summed (GenerateResponse.cost.total). What OpenAI has no
field for (layers, stop reason, degradations, per-stage cost) is in an extension field, `smoa`, of the
completion and of the last chunk; a plain OpenAI client ignores it."""

from __future__ import annotations

import time
import uuid
from typing import Any

from smoa.v1 import orchestrator_pb2
from smoa_services.gateway.openai_tools import openai_tool_calls
from smoa_services.wire.proto_json import as_dict


def completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def openai_usage(summary: orchestrator_pb2.GenerateResponse) -> dict[str, int]:
    total = summary.cost.total
    return {
        "prompt_tokens": total.input_tokens,
        "completion_tokens": total.output_tokens,
        "total_tokens": total.input_tokens + total.output_tokens,
    }


def extension(summary: orchestrator_pb2.GenerateResponse) -> dict[str, Any]:
    """Everything of the summary but the text and the tool calls (which are the message)."""
    found = as_dict(summary)
    found.pop("text", None)
    found.pop("tool_calls", None)
    return found


def finish_reason(summary: orchestrator_pb2.GenerateResponse) -> str:
    return "tool_calls" if summary.tool_calls else "stop"


def message(summary: orchestrator_pb2.GenerateResponse) -> dict[str, Any]:
    """The answer, or the tools it calls (OpenAI then has no content)."""
    if not summary.tool_calls:
        return {"role": "assistant", "content": summary.text}
    calls = [{k: v for k, v in c.items() if k != "index"} for c in openai_tool_calls(summary.tool_calls)]
    return {"role": "assistant", "content": None, "tool_calls": calls}


def completion(summary: orchestrator_pb2.GenerateResponse, model: str, identifier: str) -> dict[str, Any]:
    return {
        "id": identifier,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message(summary),
                "finish_reason": finish_reason(summary),
            }
        ],
        "usage": openai_usage(summary),
        "smoa": extension(summary),
    }


def chunk(
    identifier: str, model: str, created: int, delta: dict[str, Any], finish: str | None
) -> dict[str, Any]:
    return {
        "id": identifier,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
