"""An OpenAI-compatible chat endpoint that answers like instant_server.py, except when it injects a fault:
the weather a real provider brings. Each request meets at most one fault, drawn with the given rates:

    error       HTTP 500
    rate_limit  HTTP 429 with Retry-After
    hang        accepts the request and never answers (until the client hangs up)
    malformed   200 with a body that is not a chat completion: truncated JSON, an HTML page, a wrong shape;
                a stream sends a chunk of invalid JSON
    slow        answers late (a stream: each piece late)
    truncate    a stream that stops mid-answer (the connection is dropped)

    python -m smoa_testing.fake_llm.faulty_server --port 0 --error-rate 0.1 --hang-rate 0.05 \
        --malformed-rate 0.02 [--latency-seconds 0.2]

It prints "faulty-llm listening on HOST:PORT". GET /stats returns how many requests met each fault; POST
/faults with a JSON object of rates ({"hang": 0.05, ...}) changes them while it runs. Used by the soak test
(tests/soak) and the soak benchmark (benchmarks/bench_soak.py); never a default anywhere.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from smoa_testing.fake_llm.instant_server import MODELS, completion, requests, response, serve, stream

KINDS = ("error", "rate_limit", "hang", "malformed", "slow", "truncate")
MALFORMED_BODIES = (
    b'{"id": "chatcmpl-x", "object": "chat.completion", "choices": [{"message": {"content": "The ans',
    b"<html><body><h1>502 Bad Gateway</h1></body></html>",
    b'{"choices": "none today"}',
)


@dataclass
class Faults:
    rates: dict[str, float] = field(default_factory=dict)
    retry_after: float = 1.0
    slow_seconds: float = 0.5
    # Every reply's usual latency (a provider is never instant).
    latency_seconds: float = 0.0
    rng: random.Random = field(default_factory=random.Random)
    seen: Counter[str] = field(default_factory=Counter)

    def draw(self, streaming: bool) -> str:
        """The fault this request meets ("none" for none)."""
        roll, edge = self.rng.random(), 0.0
        for kind in KINDS:
            if kind == "truncate" and not streaming:
                continue
            edge += self.rates.get(kind, 0.0)
            if roll < edge:
                return kind
        return "none"


def error(status: str, message: str, extra: bytes = b"") -> bytes:
    body = json.dumps({"error": {"message": message, "type": "injected"}}).encode()
    return response(status, b"application/json", body, extra)


async def answer(
    request: dict[str, Any], faults: Faults, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> bool:
    """Writes the reply; False when the connection is to be closed."""
    streaming = bool(request.get("stream"))
    fault = faults.draw(streaming)
    faults.seen[fault] += 1
    faults.seen["requests"] += 1
    if faults.latency_seconds:
        await asyncio.sleep(faults.latency_seconds)
    if fault == "error":
        writer.write(error("500 Internal Server Error", "injected server error"))
    elif fault == "rate_limit":
        retry = f"Retry-After: {faults.retry_after:g}\r\n".encode()
        writer.write(error("429 Too Many Requests", "injected rate limit", retry))
    elif fault == "hang":
        await reader.read()  # returns when the client gives up and closes the connection
        return False
    elif fault == "malformed":
        if streaming:
            body = b'data: {"id": "chatcmpl-x", "object": "chat.compl\n\n'
            writer.write(response("200 OK", b"text/event-stream", body))
        else:
            writer.write(response("200 OK", b"application/json", faults.rng.choice(MALFORMED_BODIES)))
    elif streaming:
        events = stream(request).split(b"\n\n")
        if fault == "truncate":
            events = events[: max(1, len(events) // 2)]
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
        writer.write(head)
        for event in events:
            if not event:
                continue
            if fault == "slow":
                await asyncio.sleep(faults.slow_seconds / 6)
            piece = event + b"\n\n"
            writer.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            await writer.drain()
        if fault == "truncate":
            return False  # the connection drops mid-stream
        writer.write(b"0\r\n\r\n")
    else:
        if fault == "slow":
            await asyncio.sleep(faults.slow_seconds)
        writer.write(response("200 OK", b"application/json", completion(request)))
    await writer.drain()
    return True


async def handle(faults: Faults, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        async for method, path, body in requests(reader):
            if method == b"GET" and path == b"/stats":
                writer.write(response("200 OK", b"application/json", json.dumps(faults.seen).encode()))
            elif method == b"GET":
                writer.write(response("200 OK", b"application/json", MODELS))
            elif path == b"/faults":
                faults.rates = {k: float(v) for k, v in json.loads(body).items() if k in KINDS}
                writer.write(response("200 OK", b"application/json", json.dumps(faults.rates).encode()))
            elif not await answer(json.loads(body), faults, reader, writer):
                return
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    for kind in KINDS:
        parser.add_argument(f"--{kind.replace('_', '-')}-rate", type=float, default=0.0, metavar="P")
    parser.add_argument("--retry-after", type=float, default=1.0, help="seconds, on 429s")
    parser.add_argument("--slow-seconds", type=float, default=0.5, help="how late a slow reply is")
    parser.add_argument("--latency-seconds", type=float, default=0.0, help="how long every reply takes")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rates = {kind: getattr(args, f"{kind}_rate") for kind in KINDS}
    faults = Faults(
        rates, args.retry_after, args.slow_seconds, args.latency_seconds, random.Random(args.seed)
    )
    asyncio.run(serve(args.host, args.port, functools.partial(handle, faults), "faulty-llm"))


if __name__ == "__main__":
    main()
