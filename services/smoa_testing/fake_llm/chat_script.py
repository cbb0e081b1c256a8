"""What a scripted LLM endpoint answers: a script maps each chat request (the JSON body OpenAI's API
takes) to a `Reply`. No server here, so whatever serves a script (the test endpoint in openai_endpoint.py,
the instant endpoint of the benchmarks, a container of the end-to-end test) needs nothing but this."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Reply:
    text: str = "ok"
    status: int = 200
    delay: float = 0.0
    # False: answer without a usage block, as some servers do.
    usage: bool = True
    finish_reason: str = "stop"
    prompt_tokens: int = 11
    completion_tokens: int | None = None  # None: one per whitespace-separated word
    # The error message of a non-200 reply, and its machine-readable code (OpenAI's "code" field).
    error: str = ""
    error_code: str | None = None
    headers: dict[str, str] | None = None
    # Sent as the whole body of a 200 reply instead of a chat completion (garbage, truncated JSON).
    raw_body: str | None = None
    # A stream that breaks (the connection is dropped) after this many pieces.
    break_after: int | None = None


Script = Callable[[dict[str, Any]], Reply]


def system_prompt(request: dict[str, Any]) -> str:
    return "\n".join(m["content"] for m in request.get("messages", []) if m.get("role") == "system")


def last_user(request: dict[str, Any]) -> str:
    users = [m["content"] for m in request.get("messages", []) if m.get("role") == "user"]
    return users[-1] if users else ""
