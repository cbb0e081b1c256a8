"""A scripted OpenAI-compatible chat endpoint on 127.0.0.1:0, for tests that need exact LLM answers.

It speaks the real HTTP API (JSON and server-sent-event streams), so the code under test goes through
the real `openai` SDK. A script maps each request to a `Reply`; every request is recorded. It is never
a default anywhere: only tests start it.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from smoa_testing.fake_llm.chat_script import Reply, Script, last_user


class FakeOpenAI:
    def __init__(self, script: Script | None = None):
        self.script: Script = script or (lambda request: Reply(text=f"answer to: {last_user(request)}"))
        self.requests: list[dict[str, Any]] = []
        # Requests being answered right now, and the most there ever were at once.
        self.in_flight = 0
        self.peak_in_flight = 0
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def calls(self, predicate: Callable[[dict[str, Any]], bool] = lambda r: True) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests if predicate(r)]

    async def _chat(self, http: web.Request) -> web.StreamResponse:
        request = await http.json()
        with self._lock:
            self.requests.append(request)
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            return await self._answer(http, request)
        finally:
            with self._lock:
                self.in_flight -= 1

    async def _answer(self, http: web.Request, request: dict[str, Any]) -> web.StreamResponse:
        reply = self.script(request)
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.status != 200:
            message = reply.error or f"scripted status {reply.status}"
            error = {"error": {"message": message, "type": "scripted", "code": reply.error_code}}
            return web.json_response(error, status=reply.status, headers=reply.headers)
        if reply.raw_body is not None:
            return web.Response(text=reply.raw_body, content_type="application/json")
        model = request.get("model", "fake")
        usage = {
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens
            if reply.completion_tokens is not None
            else len(reply.text.split()),
        }
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        base = {"id": "chatcmpl-fake", "created": int(time.time()), "model": model}
        if not request.get("stream"):
            body = {
                **base,
                "object": "chat.completion",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": reply.text},
                        "finish_reason": reply.finish_reason,
                    }
                ],
            }
            if reply.usage:
                body["usage"] = usage
            return web.json_response(body)
        stream = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await stream.prepare(http)

        async def send(chunk: dict[str, Any]) -> None:
            await stream.write(
                f"data: {json.dumps({**base, 'object': 'chat.completion.chunk', **chunk})}\n\n".encode()
            )

        words = reply.text.split(" ")
        for i, word in enumerate(words):
            if reply.break_after is not None and i == reply.break_after:
                assert http.transport is not None
                http.transport.close()
                return stream
            piece = word if i == 0 else " " + word
            await send({"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]})
        await send({"choices": [{"index": 0, "delta": {}, "finish_reason": reply.finish_reason}]})
        if reply.usage and (request.get("stream_options") or {}).get("include_usage"):
            await send({"choices": [], "usage": usage})
        await stream.write(b"data: [DONE]\n\n")
        await stream.write_eof()
        return stream

    async def _models(self, http: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "fake", "object": "model"}]})

    def start(self) -> FakeOpenAI:
        started = threading.Event()

        async def serve() -> None:
            app = web.Application()
            app.router.add_post("/v1/chat/completions", self._chat)
            app.router.add_get("/v1/models", self._models)
            # A client that disconnects cancels its handler, as a real server would stop generating.
            self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
            await self._runner.setup()
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            await site.start()
            server = site._server
            assert isinstance(server, asyncio.Server) and server.sockets
            self.port = server.sockets[0].getsockname()[1]
            started.set()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(serve())
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="fake-openai", daemon=True)
        self._thread.start()
        if not started.wait(10):
            raise RuntimeError("fake OpenAI endpoint did not start")
        return self

    def stop(self) -> None:
        if self._loop is None or self._runner is None:
            return
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        self._loop.close()

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
