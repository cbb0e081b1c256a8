"""An OpenAI-compatible chat endpoint that answers at once, for measuring everything but the model.

    python -m smoa_testing.fake_llm.instant_server --port 0   # prints "instant-llm listening on HOST:PORT"
    python -m smoa_testing.fake_llm.instant_server --port 0 --record calls.jsonl  # keeps the first requests

A bare asyncio HTTP/1.1 server (keep-alive, JSON and SSE streams), not a framework, so that the endpoint's
own cost stays small next to what is measured. What it answers is the instant LLM of smoa_testing
(instant_llm.py): valid at once for every smoa caller, each proposer's answer its own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from smoa_testing.fake_llm.instant_llm import answer

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
USAGE = {"prompt_tokens": 20, "completion_tokens": 8, "total_tokens": 28}
MODELS = b'{"object":"list","data":[{"id":"instant","object":"model"}]}'
# --record keeps this many chat requests, the first ones, so that recording costs nothing once measuring
# begins: a benchmark replays one smoa request's calls directly (benchmarks/llm_floors.py).
RECORDED = 64


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
    words = answer(request).split(" ")
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


class Recorder:
    """The bodies of the first RECORDED chat requests, one JSON line each, appended to a file."""

    def __init__(self, path: Path | None):
        self.path, self.left = path, RECORDED if path else 0

    def keep(self, body: bytes) -> None:
        if self.left and self.path:
            self.left -= 1
            with self.path.open("ab") as out:
                out.write(body.replace(b"\n", b" ") + b"\n")


def handler(recorder: Recorder) -> Handler:
    return lambda reader, writer: handle(reader, writer, recorder)


async def handle(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, recorder: Recorder | None = None
) -> None:
    try:
        async for method, _, body in requests(reader):
            request = json.loads(body) if body else {}
            if recorder and method == b"POST":
                recorder.keep(body)
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
    parser.add_argument("--record", type=Path, help=f"append the first {RECORDED} chat requests to this file")
    args = parser.parse_args()
    asyncio.run(serve(args.host, args.port, handler(Recorder(args.record))))


if __name__ == "__main__":
    main()
