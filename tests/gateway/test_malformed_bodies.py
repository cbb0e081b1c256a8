"""Bodies that once got a 500 with a traceback, and the errors OpenAI's clients expect, all on one
keep-alive connection: every answer is OpenAI's error object with a 4xx, and the connection still answers
the next request (uvicorn closes it after a 500 it did not expect)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import openai
import pytest

from smoa_testing.fake_llm.instant_llm import instant_reply
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.stacks.in_process_gateway import gateway, openai_client
from smoa_testing.stacks.orchestrator_stack import orchestrator_stack

GOOD = {"model": "smoa:n=2,k=1,layers=1", "messages": [{"role": "user", "content": "What is 6 times 7?"}]}
DEEP = ("[" * 100_000 + "]" * 100_000).encode()


class Connection:
    """One HTTP/1.1 keep-alive connection, as plain as a client gets: a request, then its response."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer

    async def send(self, method: str, path: str, body: bytes = b"") -> tuple[int, dict[str, Any]]:
        head = f"{method} {path} HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
        self.writer.write(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
        await self.writer.drain()
        status_line, *header_lines = (await self.reader.readuntil(b"\r\n\r\n")).decode().split("\r\n")
        headers = dict(line.lower().split(": ", 1) for line in header_lines if ": " in line)
        assert headers.get("connection") != "close", f"the gateway closed the connection after {status_line}"
        content = await self.reader.readexactly(int(headers["content-length"]))
        return int(status_line.split()[1]), json.loads(content)


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        (
            json.dumps({**GOOD, "messages": [{"role": ["user"], "content": "hi"}]}).encode(),
            400,
            "messages[0].role",
        ),
        (json.dumps({**GOOD, "model": "smoa:n=99999999999"}).encode(), 400, "model"),
        (json.dumps({**GOOD, "model": "smoa:n=²"}).encode(), 400, "model"),
        (json.dumps({**GOOD, "temperature": 10**400}).encode(), 400, "temperature"),
        (
            b'{"model": "smoa", "temperature": NaN, "messages": [{"role": "user", "content": "hi"}]}',
            400,
            "temperature",
        ),
        (DEEP, 400, None),
        (json.dumps({**GOOD, "smoa": json.loads("[" * 500 + "]" * 500)}).encode(), 400, "smoa"),
        (json.dumps({**GOOD, "model": "gpt-9"}).encode(), 404, "model"),
        (b"x" * (4 * 1024 * 1024 + 1), 413, None),
    ],
    ids=[
        "role-list",
        "n-out-of-range",
        "n-unicode-digit",
        "temperature-huge",
        "temperature-nan",
        "deep-json",
        "deep-smoa",
        "unknown-model",
        "too-large",
    ],
)
async def test_a_malformed_body_gets_openais_error_and_the_connection_stays(
    body: bytes, status: int, param: str | None
) -> None:
    with FakeOpenAI(instant_reply) as llm:
        async with orchestrator_stack(llm.base_url) as stack, gateway(stack.port) as url:
            host, port = url.removeprefix("http://").split(":")
            connection = Connection(*await asyncio.open_connection(host, int(port)))
            got, error = await connection.send("POST", "/v1/chat/completions", body)
            assert (got, error["error"]["param"]) == (status, param), error
            assert set(error["error"]) == {"message", "type", "param", "code"}
            again, answer = await connection.send("POST", "/v1/chat/completions", json.dumps(GOOD).encode())
            connection.writer.close()
    assert again == 200 and answer["choices"][0]["message"]["content"]


async def test_routing_errors_are_openais_error_object() -> None:
    async with gateway(1) as url:
        host, port = url.removeprefix("http://").split(":")
        connection = Connection(*await asyncio.open_connection(host, int(port)))
        missing = await connection.send("POST", "/v1/no-such-thing", b"{}")
        wrong_method = await connection.send("GET", "/v1/chat/completions")
        connection.writer.close()
    assert missing[0] == 404 and missing[1]["error"]["type"] == "invalid_request_error"
    assert wrong_method[0] == 405 and "GET /v1/chat/completions" in wrong_method[1]["error"]["message"]


async def test_the_sdk_sees_openais_classes_for_a_missing_model_and_a_large_body() -> None:
    with FakeOpenAI(instant_reply) as llm:
        async with orchestrator_stack(llm.base_url) as stack, gateway(stack.port) as url:
            client = openai_client(url)
            with pytest.raises(openai.NotFoundError) as missing:
                await client.chat.completions.create(
                    model="gpt-9", messages=[{"role": "user", "content": "hi"}]
                )
            with pytest.raises(openai.APIStatusError) as large:
                await client.chat.completions.create(
                    model="smoa", messages=[{"role": "user", "content": "x" * (5 * 1024 * 1024)}]
                )
            retrieved = await client.models.retrieve("smoa:n=6,k=2")
            with pytest.raises(openai.NotFoundError):
                await client.models.retrieve("gpt-9")
    assert missing.value.code == "model_not_found"
    # Not a RateLimitError: the SDK would retry it three times for nothing.
    assert large.value.status_code == 413 and not isinstance(large.value, openai.RateLimitError)
    assert retrieved.id == "smoa:n=6,k=2" and retrieved.owned_by == "smoa"
