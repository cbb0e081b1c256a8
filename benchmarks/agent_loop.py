"""A LangChain agent loop of two steps against a running gateway (the local stack of `make run` by default,
so the embedded model): `bind_tools` with a weather tool and a clock, the model's tool calls run and their
results fed back, then the answer (`--first-choice required` makes the first step a call, as agents
that must look something up first do). Each question is one loop; it prints the first loop as a transcript and
counts how each step ended: tool calls (their arguments valid against the tool's schema, as the service
checks), text, degraded (a kept reply in place of the aggregator's), or an error.

    .venv/bin/python -m smoa_services.stack start
    .venv/bin/python benchmarks/agent_loop.py --loops 5 [--url http://127.0.0.1:8000] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import openai
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

CITIES = ["Paris", "Tokyo", "Lima", "Oslo", "Cairo", "Perth", "Quito", "Seoul", "Accra", "Riga"]


@tool
def get_weather(city: str) -> str:
    """The weather now in a city."""
    return json.dumps({"city": city, "temperature_c": 18, "sky": "sunny"})


@tool
def get_time(timezone: str) -> str:
    """The time now in an IANA timezone, such as Europe/Paris."""
    return json.dumps({"timezone": timezone, "time": "14:05"})


TOOLS = {t.name: t for t in (get_weather, get_time)}


def step(model: Any, history: list[BaseMessage]) -> tuple[str, AIMessage | None, float]:
    started = time.monotonic()
    try:
        reply = model.invoke(history)
    except openai.APIError as e:
        return f"error {getattr(e, 'status_code', '')} {str(e)[:160]}", None, time.monotonic() - started
    seconds = time.monotonic() - started
    smoa = (reply.response_metadata or {}).get("smoa") or {}
    kind = "tool_calls" if reply.tool_calls else "text"
    return (f"{kind}, degraded" if smoa.get("degraded") else kind), reply, seconds


def loop(models: list[Any], city: str, transcript: bool) -> list[str]:
    history: list[BaseMessage] = [HumanMessage(f"What is the weather in {city} right now?")]
    ended = []
    for model in models:
        kind, reply, seconds = step(model, history)
        ended.append(kind)
        if transcript:
            print(f"--- step {len(ended)} ({seconds:.1f} s): {kind}")
        if reply is None:
            break
        history.append(reply)
        if transcript:
            print(f"assistant: {reply.content!r}")
        if not reply.tool_calls:
            break
        for call in reply.tool_calls:
            result = TOOLS[call["name"]].invoke(call["args"])
            history.append(ToolMessage(result, tool_call_id=call["id"]))
            if transcript:
                print(f"assistant calls {call['name']}({json.dumps(call['args'])}) id={call['id']}")
                print(f"tool {call['name']}: {result}")
    return ended


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--model", default="smoa:n=3,k=2,layers=1")
    parser.add_argument("--loops", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument(
        "--first-choice", default="auto", help="tool_choice of the first step (auto, required); then auto"
    )
    parser.add_argument("--out", type=Path, help="also write how every step ended as JSON")
    args = parser.parse_args(argv)
    chat = ChatOpenAI(
        base_url=f"{args.url}/v1", api_key=SecretStr("unused"), model=args.model,
        max_completion_tokens=args.max_tokens, max_retries=0, timeout=900,
    )  # fmt: skip
    tools = list(TOOLS.values())
    models = [chat.bind_tools(tools, tool_choice=args.first_choice), chat.bind_tools(tools)]
    loops = []
    for i in range(args.loops):
        loops.append(loop(models, CITIES[i % len(CITIES)], transcript=i == 0))
        print(f"loop {i + 1}: {' -> '.join(loops[-1])}", flush=True)
    for n in (1, 2):
        counts = Counter(ended[n - 1] for ended in loops if len(ended) >= n)
        print(f"step {n}: {dict(counts)}")
    if args.out:
        args.out.write_text(json.dumps(loops, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
