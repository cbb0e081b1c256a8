"""Getting a validated JSON object out of a chat model: ask, check, and on a bad reply ask once more,
showing the model what it wrote and exactly what was wrong (models fix a named mistake far more often
than they get a blind second sample right). A call that fails (the backend down, the budget spent) ends
the asking like a bad reply does: every caller has a fallback for "no valid answer"."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from smoa_services.llm.chat_model import Ask
from smoa_services.llm.completion import Completion, clean_text
from smoa_services.rpc.failure import Failure

T = TypeVar("T")

# No \s* before the body: with it, an unclosed fence followed by whitespace backtracks quadratically (a
# minute of CPU, the event loop blocked, for 100,000 characters). The body is stripped after the match.
_FENCE = re.compile(r"```(?:json)?(.*?)```", re.DOTALL | re.IGNORECASE)


class ReplyError(ValueError):
    """The reply is not what was asked for. The message says so without quoting the reply, so it can go
    into traces, logs and statuses; ``detail`` may quote it, and is shown only to the model, whose own
    words they are, when it is asked again."""

    def __init__(self, message: str, detail: str | None = None):
        super().__init__(message)
        self.detail = detail or message


# A judge's, moderator's or role writer's reply is a few hundred characters; far more is not one.
MAX_REPLY_CHARS = 100_000


def json_object(text: str) -> dict[str, Any]:
    """The JSON object in a reply. json_mode is only a request some backends ignore, so a Markdown fence
    or a sentence around the object is tolerated; anything else is a ReplyError. An LLM's reply is
    untrusted input: its size is bounded, nesting too deep or numbers too long are a ReplyError like any
    other, and strings come back as valid UTF-8 (a lone surrogate escaped in JSON becomes "?")."""
    if len(text) > MAX_REPLY_CHARS:
        raise ReplyError(f"the reply is {len(text)} characters long, over {MAX_REPLY_CHARS}")
    fenced = _FENCE.search(text)
    body = (fenced.group(1) if fenced else text).strip()
    start, end = body.find("{"), body.rfind("}")
    if start < 0 or end < start:
        raise ReplyError("the reply holds no JSON object")
    try:
        value = json.loads(body[start : end + 1])
        if not isinstance(value, dict):
            raise ReplyError("the reply must be one JSON object")
        # Re-read through valid UTF-8, so every string in it can go into a protobuf message.
        cleaned: dict[str, Any] = json.loads(clean_text(json.dumps(value, ensure_ascii=False)))
    except json.JSONDecodeError as e:
        raise ReplyError(f"the reply is not valid JSON: {e.msg} at character {e.pos}") from e
    except RecursionError as e:
        raise ReplyError("the reply's JSON is nested too deeply") from e
    except ValueError as e:  # e.g. an integer of thousands of digits
        if isinstance(e, ReplyError):
            raise
        raise ReplyError(f"the reply's JSON holds a value that cannot be read: {str(e)[:100]}") from e
    return cleaned


def correction(previous: str, error: str) -> list[dict[str, str]]:
    """The turns appended for the one retry: the model's own reply, then what was wrong with it."""
    return [
        {"role": "assistant", "content": previous},
        {
            "role": "user",
            "content": f"Your reply was not valid: {error}.\n"
            "Reply again with only the corrected JSON object, in exactly the format asked for.",
        },
    ]


@dataclass(frozen=True)
class JsonReply(Generic[T]):
    """The parsed value (None when both attempts failed), every call made, and the last error."""

    value: T | None
    completions: list[Completion]
    error: str = ""
    # The LLM call itself failed (rather than answering with something invalid).
    failed: bool = False


async def ask_json(
    ask: Ask,
    messages: Sequence[Mapping[str, str]],
    parse: Callable[[str], T],
    attempts: int = 2,
    schema: Mapping[str, Any] | None = None,
) -> JsonReply[T]:
    """Asks up to ``attempts`` times; each retry carries the previous reply and its error. ``schema``
    lets backends that can constrain decoding to it do so; ``parse`` still checks every reply."""
    conversation = [dict(m) for m in messages]
    completions: list[Completion] = []
    error = ""
    for _ in range(attempts):
        try:
            completion = await ask(conversation, schema)
        except Failure as e:
            return JsonReply(None, completions, str(e), failed=True)
        completions.append(completion)
        try:
            return JsonReply(parse(completion.text), completions)
        except ReplyError as e:
            error = str(e)
            conversation = [dict(m) for m in messages] + correction(completion.text, e.detail)
    return JsonReply(None, completions, error)
