"""The embedded model's pool: its front over scripted workers (which worker gets a call, what passes
through, what a caller going away, a dead worker or a frozen one does), then the pool as a process over the
real model (`python -m smoa_services.llm.embedded`): a busy worker is not taken for frozen, it stops its
workers on SIGTERM, and it stops when one dies."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from smoa_services.llm.model_pool import ModelPool, Worker, free_port
from smoa_testing.eventually import eventually
from smoa_testing.fake_llm.chat_script import Reply
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI

HI: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]


@asynccontextmanager
async def pool_over(*fakes: FakeOpenAI) -> AsyncIterator[tuple[ModelPool, openai.AsyncOpenAI]]:
    pool = ModelPool([Worker(fake.base_url.removesuffix("/v1")) for fake in fakes])
    port = await pool.start("127.0.0.1", 0)
    client = openai.AsyncOpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="unused", max_retries=0)
    try:
        yield pool, client
    finally:
        await client.close()
        await pool.stop()


@pytest.fixture
def slow_pair() -> Iterator[tuple[FakeOpenAI, FakeOpenAI]]:
    with (
        FakeOpenAI(lambda request: Reply("first", delay=0.3)) as a,
        FakeOpenAI(lambda request: Reply("second", delay=0.3)) as b,
    ):
        yield a, b


async def test_calls_at_once_go_to_different_workers(slow_pair: tuple[FakeOpenAI, FakeOpenAI]) -> None:
    a, b = slow_pair
    async with pool_over(a, b) as (pool, client):
        replies = await asyncio.gather(
            *(client.chat.completions.create(model="m", messages=HI) for _ in range(4))
        )
        assert sorted(r.choices[0].message.content or "" for r in replies) == ["first"] * 2 + ["second"] * 2
        assert (a.peak_in_flight, b.peak_in_flight) == (2, 2)
        # Idle again: a tie goes to the first worker.
        await client.chat.completions.create(model="m", messages=HI)
        assert (len(a.requests), len(b.requests)) == (3, 2)
        assert [w.in_flight for w in pool.workers] == [0, 0]


async def test_a_stream_and_the_models_list_pass_through() -> None:
    with FakeOpenAI(lambda request: Reply("one two three four")) as fake:
        async with pool_over(fake) as (_, client):
            stream = await client.chat.completions.create(model="m", messages=HI, stream=True)
            pieces = [
                c.choices[0].delta.content async for c in stream if c.choices and c.choices[0].delta.content
            ]
            assert "".join(pieces) == "one two three four" and len(pieces) == 4
            models = await client.models.list()
            assert models.data
    with FakeOpenAI(lambda request: Reply(status=400, error="context too long")) as refusing:
        async with pool_over(refusing) as (_, client):
            with pytest.raises(openai.BadRequestError, match="context too long"):
                await client.chat.completions.create(model="m", messages=HI)


async def test_a_caller_that_goes_away_frees_its_worker_at_once() -> None:
    with FakeOpenAI(lambda request: Reply("late", delay=5)) as fake:
        async with pool_over(fake) as (pool, client):
            with pytest.raises(openai.APITimeoutError):
                await client.chat.completions.create(model="m", messages=HI, timeout=0.3)
            await eventually(lambda: pool.workers[0].in_flight == 0, within=2, what="the worker freed")


async def test_a_worker_that_cannot_be_reached_is_a_502_not_a_hang() -> None:
    pool = ModelPool([Worker(f"http://127.0.0.1:{free_port()}")])
    port = await pool.start("127.0.0.1", 0)
    client = openai.AsyncOpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="unused", max_retries=0)
    try:
        with pytest.raises(openai.InternalServerError, match="the model worker failed"):
            await client.chat.completions.create(model="m", messages=HI, timeout=10)
    finally:
        await client.close()
        await pool.stop()


async def test_a_worker_that_breaks_mid_stream_cuts_the_callers_stream_short() -> None:
    with FakeOpenAI(lambda request: Reply("one two three four five", break_after=2)) as fake:
        async with pool_over(fake) as (pool, client):
            received = []
            with pytest.raises(openai.APIError):
                stream = await client.chat.completions.create(model="m", messages=HI, stream=True)
                async for chunk in stream:
                    received += [c.delta.content for c in chunk.choices if c.delta.content]
            assert 0 < len(received) <= 2
            assert pool.workers[0].in_flight == 0


async def test_a_busy_worker_is_not_taken_for_frozen() -> None:
    with FakeOpenAI(lambda request: Reply("slow", delay=1.5)) as fake:
        pool = ModelPool(
            [Worker(fake.base_url.removesuffix("/v1"))], probe_seconds=0.3, probe_period_seconds=0.1
        )
        port = await pool.start("127.0.0.1", 0)
        client = openai.AsyncOpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="unused", max_retries=0)
        try:
            call = asyncio.ensure_future(client.chat.completions.create(model="m", messages=HI))
            answering = []
            while not call.done():
                answering.append(pool.workers[0].answering)
                await asyncio.sleep(0.05)
            assert (await call).choices[0].message.content == "slow"
            assert len(answering) > 20 and all(answering)
        finally:
            await client.close()
            await pool.stop()


@pytest.fixture
def instant_pair() -> Iterator[list[tuple[subprocess.Popen[str], str]]]:
    """Two instant OpenAI-compatible servers as processes, so that one can be frozen."""
    started: list[tuple[subprocess.Popen[str], str]] = []
    try:
        for _ in range(2):
            command = [sys.executable, "-m", "smoa_testing.fake_llm.instant_server", "--port", "0"]
            server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
            assert server.stdout is not None
            found = re.search(r"listening on ([\d.]+:\d+)", server.stdout.readline())
            assert found, "the instant server did not start"
            started.append((server, f"http://{found.group(1)}"))
        yield started
    finally:
        for server, _ in started:
            server.send_signal(signal.SIGCONT)
            server.kill()
            server.wait()


async def found(worker: Worker, answering: bool) -> None:
    await eventually(lambda: worker.answering == answering, within=5, what=f"the probe finding {answering=}")


async def test_a_frozen_worker_gets_no_new_calls_until_it_answers_again(
    instant_pair: list[tuple[subprocess.Popen[str], str]],
) -> None:
    pool = ModelPool([Worker(url) for _, url in instant_pair], probe_seconds=0.3, probe_period_seconds=0.1)
    port = await pool.start("127.0.0.1", 0)
    client = openai.AsyncOpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="unused", max_retries=0)

    async def calls_answered() -> None:
        # One at a time, so each is a tie the first worker would win: a call sent to a frozen worker would
        # time out.
        for _ in range(5):
            reply = await client.chat.completions.create(model="m", messages=HI, timeout=5)
            assert reply.choices[0].message.content

    try:
        await calls_answered()
        for (server, _), worker in zip(instant_pair, pool.workers, strict=True):
            server.send_signal(signal.SIGSTOP)
            await found(worker, answering=False)
            await calls_answered()
            server.send_signal(signal.SIGCONT)
            await found(worker, answering=True)
        # While worker 1 was frozen, worker 0 took every call: it had been found answering again.
        assert [w.in_flight for w in pool.workers] == [0, 0]
    finally:
        await client.close()
        await pool.stop()


def test_a_pool_needs_a_worker() -> None:
    with pytest.raises(ValueError, match="workers"):
        ModelPool([])


@pytest.fixture
def pool_process() -> Iterator[tuple[subprocess.Popen[str], int]]:
    port = free_port()
    command = [sys.executable, "-m", "smoa_services.llm.embedded", "--port", str(port), "--workers", "2"]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        assert f"2 workers on http://127.0.0.1:{port}/v1" in line, line
        yield process, port
    finally:
        process.kill()
        process.wait()


def workers_of(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in found]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited


@pytest.mark.embedded
def test_the_pool_answers_two_at_once_and_sigterm_stops_its_workers(
    pool_process: tuple[subprocess.Popen[str], int],
) -> None:
    process, port = pool_process
    workers = workers_of(process.pid)
    assert len(workers) == 2

    async def two() -> list[str]:
        client = openai.AsyncOpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="unused", max_retries=0)
        async with client:
            replies = await asyncio.gather(
                *(
                    client.chat.completions.create(model="smollm2-135m", messages=HI, max_tokens=96)
                    for _ in range(2)
                )
            )
        return [r.choices[0].message.content or "" for r in replies]

    assert all(text.strip() for text in asyncio.run(two()))
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    assert not any(alive(w) for w in workers)
    # Decoding, each worker still listed its models within the probe's time.
    assert process.stderr is not None and "did not answer" not in process.stderr.read()


@pytest.mark.embedded
def test_the_pool_stops_with_an_error_when_a_worker_dies(
    pool_process: tuple[subprocess.Popen[str], int],
) -> None:
    process, _ = pool_process
    first, second = workers_of(process.pid)
    os.kill(first, signal.SIGKILL)
    started = time.monotonic()
    assert process.wait(timeout=20) == 1
    assert time.monotonic() - started < 10
    assert process.stderr is not None and "a model worker exited" in process.stderr.read()
    assert not alive(second)
