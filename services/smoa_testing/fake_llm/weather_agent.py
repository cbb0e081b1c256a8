"""A scripted model offered a weather tool, as the gateway's and the SDK's tool tests play it: it calls
get_weather until a result of it is in the conversation, then answers from that result."""

from __future__ import annotations

import json
from typing import Any

from smoa_services.ensemble.tool_use import REPLY_DESCRIPTION
from smoa_testing.fake_llm.callers import caller_of
from smoa_testing.fake_llm.chat_script import Reply, system_prompt
from smoa_testing.fake_llm.instant_llm import instant_reply

ANSWER = "It is 18 C and sunny in Paris."
PARAMETERS: Any = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
    "additionalProperties": False,
}


def agent(request: dict[str, Any]) -> Reply:
    """Key order, spacing and the city's name vary with the request's seed, as models' do; calls that are
    not asked to write an answer with tools (the judge, the moderator) get the instant model's reply."""
    if caller_of(request) not in {
        "proposer",
        "aggregator",
        "single",
    } or REPLY_DESCRIPTION not in system_prompt(request):
        return instant_reply(request)
    seed = request.get("seed") or 0
    if any("Result of get_weather" in m["content"] for m in request["messages"]):
        return Reply(text=json.dumps({"answer": ANSWER}, indent=seed % 3))
    city = {3: "Paris, France", 4: "Paris, FR"}.get(seed, "Paris")
    call = {"arguments": {"city": city}, "name": "get_weather"}
    if seed % 2:
        call = {"name": "get_weather", "arguments": {"city": city}}
    return Reply(text=json.dumps({"tool_calls": [call]}, indent=seed % 3))
