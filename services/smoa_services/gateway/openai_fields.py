"""Every field of OpenAI's chat-completions request, and what the gateway does with each. Nothing is dropped
without being listed here: a test walks the openai SDK's own request type, so a field OpenAI adds fails it
until it is given a line.

- honoured: it does to the ensemble's answer what it does to one model's;
- recorded: kept as the request's metadata (traces, the response), never taken as who is calling;
- neutral: accepted at the values that ask for nothing (`n: 1`, `top_p: 1`, `store: false`), refused at
  any other, since the ensemble would not do what they ask;
- inert: hints to OpenAI's own platform (prompt caching, service tiers) that change no answer here;
- refused: 400 naming the field whenever it is given (null aside).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

HONOURED = frozenset(
    {
        "model",
        "messages",
        "stream",
        "stream_options",
        "temperature",
        "max_tokens",
        "max_completion_tokens",
        "seed",
        "stop",
        "response_format",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
    }
)
RECORDED = frozenset({"user", "safety_identifier", "metadata"})
# The values that ask for nothing an ensemble would not do (JSON values, compared as parsed).
NEUTRAL: Mapping[str, tuple[Any, ...]] = {
    "n": (1,),
    "top_p": (1,),
    "frequency_penalty": (0,),
    "presence_penalty": (0,),
    "store": (False,),
    "modalities": (["text"],),
}
INERT = frozenset({"service_tier", "prompt_cache_key", "prompt_cache_retention", "prompt_cache_options"})
REFUSED: Mapping[str, str] = {
    "functions": "deprecated by OpenAI: use tools",
    "function_call": "deprecated by OpenAI: use tool_choice",
    "logprobs": "an ensemble's answer has no token log probabilities",
    "top_logprobs": "an ensemble's answer has no token log probabilities",
    "logit_bias": "logit bias is not supported by an ensemble of models",
    "audio": "audio output is not supported",
    "prediction": "predicted outputs are not supported",
    "web_search_options": "web search is not supported",
    "reasoning_effort": "reasoning effort is not supported by an ensemble of models",
    "verbosity": "verbosity is not supported by an ensemble of models",
    "moderation": "moderation is not supported",
}
KNOWN = HONOURED | RECORDED | set(NEUTRAL) | INERT | set(REFUSED)


def refusal(body: Mapping[str, Any]) -> tuple[str, str] | None:
    """(field, why) for the first field of the body the gateway cannot honour, or None."""
    for name, why in REFUSED.items():
        if body.get(name) is not None:
            return name, f"{name}: {why}"
    for name, accepted in NEUTRAL.items():
        value = body.get(name)
        if value is not None and not any(_same(value, a) for a in accepted):
            shown = ", ".join(repr(a) for a in accepted)
            return name, f"{name}: only {shown} is supported by an ensemble of models, got {_short(value)}"
    return None


def _same(value: Any, accepted: Any) -> bool:
    # JSON's numbers: 1 and 1.0 are the same value, but a boolean is not a number.
    if isinstance(value, bool) or isinstance(accepted, bool):
        return value is accepted
    return bool(value == accepted)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
