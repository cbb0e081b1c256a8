"""The README's tool-call examples (the openai SDK's loop and LangChain's), run as written against the
gateway, with only its address changed: a scripted model that calls get_weather, then answers from its
result."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.fake_llm.weather_agent import ANSWER, agent
from smoa_testing.stacks.in_process_gateway import gateway
from smoa_testing.stacks.orchestrator_stack import orchestrator_stack

README = Path(__file__).resolve().parents[2] / "README.md"


def examples() -> list[str]:
    section = README.read_text().split("### Tool calls", 1)[1].split("\n### ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


def test_the_section_has_both_examples() -> None:
    assert [("from openai import" in e, "bind_tools" in e) for e in examples()] == [
        (True, False),
        (False, True),
    ]


@pytest.mark.parametrize("example", examples(), ids=["openai", "langchain"])
async def test_an_example_runs_the_loop_to_the_answer(example: str) -> None:
    printed: list[Any] = []
    with FakeOpenAI(agent) as llm:
        async with orchestrator_stack(llm.base_url) as stack, gateway(stack.port) as url:
            code = example.replace("http://127.0.0.1:8000", url)
            await asyncio.to_thread(exec, code, {"print": printed.append, "__name__": "readme"})
        asked = [m["content"] for r in llm.calls() for m in r["messages"]]
    assert printed == [ANSWER]
    assert any("Result of get_weather" in c and "18 C and sunny in Paris" in c for c in asked)
