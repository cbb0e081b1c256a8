"""An OpenAI-compatible chat endpoint that answers at once, for measuring everything but the model.

    python benchmarks/instant_llm.py --port 0      # prints "instant-llm listening on 127.0.0.1:PORT"

A bare asyncio HTTP/1.1 server (keep-alive, JSON and SSE streams), not a framework, so that the endpoint's
own cost stays small next to what is measured. Replies are shaped for smoa's callers: the judge gets
scores for every response label it was shown, the moderator says continue, a proposer's answer differs
per role (so neither dedup nor the consensus check short-circuits a layer), the aggregator streams.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from smoa_services.judge.prompt import SYSTEM as JUDGE_SYSTEM
from smoa_services.moderator.prompt import SYSTEM as MODERATOR_SYSTEM

LABEL = re.compile(r'<response label="(\d+)">')
USAGE = {"prompt_tokens": 20, "completion_tokens": 8, "total_tokens": 28}
MODELS = b'{"object":"list","data":[{"id":"instant","object":"model"}]}'


def answer(request: dict[str, Any]) -> str:
    messages = request.get("messages", [])
    system = next((m["content"] for m in messages if m.get("role") == "system"), "")
    user = messages[-1]["content"] if messages else ""
    # The services' own prompt constants: a reworded prompt must not silently turn judging into proposing.
    if system.startswith(JUDGE_SYSTEM):
        labels = LABEL.findall(user)
        return json.dumps({"scores": {label: 9 - i % 9 for i, label in enumerate(labels)}})
    if system.startswith(MODERATOR_SYSTEM):
        return '{"decision": "continue", "reason": "another round may help"}'
    # Distinct per role (wording and final number), so neither dedup nor the moderator's answer-key
    # consensus ends a layer early: every request runs both layers.
    return f"Having read {len(user)} characters, {system[:40]!r} answers {zlib.crc32(system.encode()) % 1000}"


def completion(request: dict[str, Any]) -> bytes:
    body = {
        "id": "chatcmpl-instant",
        "object": "chat.completion",
        "created": 0,
        "model": request.get("model", "instant"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer(request)},
                "finish_reason": "stop",
            }
        ],
        "usage": USAGE,
    }
    return json.dumps(body).encode()


def stream(request: dict[str, Any]) -> bytes:
    base = {
        "id": "chatcmpl-instant",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": request.get("model", "instant"),
    }
    words = ["The", "synthesized", "answer", "is", "forty", "two"]
    events = [
        {
            **base,
            "choices": [{"index": 0, "delta": {"content": w if i == 0 else " " + w}, "finish_reason": None}],
        }
        for i, w in enumerate(words)
    ]
    events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    events.append({**base, "choices": [], "usage": USAGE})
    return b"".join(f"data: {json.dumps(e)}\n\n".encode() for e in events) + b"data: [DONE]\n\n"


def response(status: str, kind: bytes, body: bytes, headers: bytes = b"") -> bytes:
    """One HTTP/1.1 response; `headers` are extra header lines, each ending in CRLF."""
    length = b"Content-Length: " + str(len(body)).encode() + b"\r\n"
    return (
        f"HTTP/1.1 {status}\r\n".encode()
        + b"Content-Type: "
        + kind
        + b"\r\n"
        + length
        + headers
        + b"\r\n"
        + body
    )


async def requests(reader: asyncio.StreamReader) -> AsyncIterator[tuple[bytes, bytes, bytes]]:
    """(method, path, body) of each request on a keep-alive connection, until the client closes it."""
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            method, path, *_ = [*head.split(b" "), b"", b""]
            yield method, path, await reader.readexactly(length) if length else b""
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        return


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        async for method, _, body in requests(reader):
            request = json.loads(body) if body else {}
            if method == b"GET":
                writer.write(response("200 OK", b"application/json", MODELS))
            elif request.get("stream"):
                writer.write(response("200 OK", b"text/event-stream", stream(request)))
            else:
                writer.write(response("200 OK", b"application/json", completion(request)))
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def serve(host: str, port: int, handler: Handler = handle, name: str = "instant-llm") -> None:
    """Serves until cancelled, after printing "NAME listening on HOST:PORT" (how callers learn port 0)."""
    server = await asyncio.start_server(handler, host, port, backlog=1024)
    bound = server.sockets[0].getsockname()[1]
    print(f"{name} listening on {host}:{bound}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
