"""The floors smoa's overhead is measured against: the LLM calls of one smoa request made directly from one
process, with the openai SDK (`chat.completions.create`, as an application would make them) and with raw
aiohttp (about the least a Python HTTP client can do), in the request's own order: the calls of a stage (one
layer's proposers) at once, the stages one after another.

The calls are not imitated: they are the bodies one real smoa request sent (recorded by smoa_testing's
instant_server, --record), replayed to the same endpoint, so prompts, sizes and streaming are the request's
own.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import openai

from smoa_testing.fake_llm.callers import caller_of

Body = dict[str, Any]
# One request's calls, made once.
Replay = Callable[[], Awaitable[None]]


def stages(path: Path, calls: int) -> list[list[Body]]:
    """The first `calls` recorded bodies, in stages: consecutive proposer calls run together (one layer's
    proposers); every other call (judge, moderator, aggregator) is a stage of its own."""
    bodies = [json.loads(line) for line in path.read_text().splitlines()[:calls]]
    if len(bodies) < calls:
        raise RuntimeError(f"{path}: {len(bodies)} calls recorded, {calls} expected")
    grouped: list[list[Body]] = []
    for body in bodies:
        if grouped and caller_of(body) == "proposer" and caller_of(grouped[-1][0]) == "proposer":
            grouped[-1].append(body)
        else:
            grouped.append([body])
    return grouped


def in_order(stages: list[list[Body]], one: Callable[[Body], Awaitable[None]]) -> Replay:
    async def replay() -> None:
        for stage in stages:
            await asyncio.gather(*(one(body) for body in stage))

    return replay


@asynccontextmanager
async def openai_sdk(base_url: str, stages: list[list[Body]]) -> AsyncIterator[Replay]:
    """The calls with the openai SDK as shipped: its default HTTP client, typed responses."""
    async with openai.AsyncOpenAI(base_url=base_url, api_key="unused", max_retries=0) as client:

        async def one(body: Body) -> None:
            rest = {key: value for key, value in body.items() if key != "stream"}
            if body.get("stream"):
                async for _ in await client.chat.completions.create(**rest, stream=True):
                    pass
            else:
                await client.chat.completions.create(**rest)

        yield in_order(stages, one)


@asynccontextmanager
async def raw_aiohttp(base_url: str, stages: list[list[Body]]) -> AsyncIterator[Replay]:
    """The calls as bare HTTP: one aiohttp session, the JSON encoded and each reply (or event) decoded."""
    url = f"{base_url}/chat/completions"
    headers = {"content-type": "application/json", "authorization": "Bearer unused"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def one(body: Body) -> None:
            async with session.post(url, data=json.dumps(body), headers=headers) as reply:
                reply.raise_for_status()
                if not body.get("stream"):
                    json.loads(await reply.read())
                    return
                async for line in reply.content:
                    if line.startswith(b"data: ") and line.strip() != b"data: [DONE]":
                        json.loads(line[6:])

        yield in_order(stages, one)
