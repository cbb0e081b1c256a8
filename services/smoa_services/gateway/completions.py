"""`POST /v1/chat/completions`: the body read within its limit, translated (chat_request.py), sent as
Generate or GenerateStream, and the answer translated back (chat_response.py), as JSON or as SSE. A client
that goes away cancels the call, and with it the whole fan-out behind it."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Mapping
from typing import Any, TypeVar

import grpc
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from smoa.v1 import orchestrator_pb2, orchestrator_pb2_grpc
from smoa_services.gateway.bad_field import BadField
from smoa_services.gateway.chat_request import BODY_SCHEMA, ChatRequest, chat_request
from smoa_services.gateway.chat_response import (
    chunk,
    completion,
    completion_id,
    extension,
    finish_reason,
    openai_usage,
)
from smoa_services.gateway.error_responses import refused
from smoa_services.gateway.http_errors import body, http_error, rate_limit_headers
from smoa_services.gateway.openai_tools import openai_tool_calls

T = TypeVar("T")
log = logging.getLogger(__name__)
router = APIRouter()


@router.post(
    "/v1/chat/completions",
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": BODY_SCHEMA}}}
    },
)
async def chat_completions(http: Request) -> Response:
    try:
        return await _chat_completions(http)
    except Exception:  # a bug of ours: OpenAI's shape, and the connection stays usable
        log.exception("the gateway failed on a request")
        return JSONResponse(body("the gateway failed: this is a bug", "server_error"), status_code=500)


async def _chat_completions(http: Request) -> Response:
    state = http.app.state
    limit = state.settings.max_message_bytes
    raw = await _body_within(http, limit)
    if raw is None:
        return JSONResponse(
            body(
                f"the body is over the limit of {limit} bytes",
                "invalid_request_error",
                code="request_too_large",
            ),
            status_code=413,
        )
    try:
        parsed = json.loads(raw)
    except (ValueError, RecursionError):  # not JSON, not text (UnicodeDecodeError), or nested too deep
        return JSONResponse(body("the body is not JSON", "invalid_request_error"), status_code=400)
    try:
        chat = chat_request(parsed)
    except BadField as e:
        return refused(e)
    metadata = tuple(("authorization", v) for v in http.headers.getlist("authorization"))
    stub = orchestrator_pb2_grpc.OrchestratorServiceStub(state.channel)
    if chat.stream:
        return await _stream(http, chat, stub, metadata, state.timeout)
    call = stub.Generate(chat.generate, metadata=metadata, timeout=state.timeout)
    try:
        summary = await _while_connected(http, call, call)
    except grpc.aio.AioRpcError as e:
        return _error(e, chat.params)
    except ClientGone:
        return Response(status_code=499)
    headers = rate_limit_headers(await call.initial_metadata())
    return JSONResponse(completion(summary, chat.model, completion_id()), headers=headers)


class ClientGone(Exception):
    pass


async def _body_within(http: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it is known to be over `limit` bytes (by its Content-Length, or while
    it arrives): a body too large is never held whole in memory."""
    declared = http.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        return None
    received = bytearray()
    async for piece in http.stream():
        received += piece
        if len(received) > limit:
            return None
    return bytes(received)


async def _disconnect(http: Request) -> None:
    # The body has been read, so the next message is the disconnect (uvicorn sends it when the
    # connection is lost).
    while (await http.receive())["type"] != "http.disconnect":
        pass


async def _while_connected(http: Request, call: grpc.aio.Call, pending: Awaitable[T]) -> T:
    """`pending` (a result of `call`), unless the client goes away first: then the call, and with it the
    whole fan-out behind it, is cancelled, and ClientGone raised."""
    work = asyncio.ensure_future(pending)
    gone = asyncio.ensure_future(_disconnect(http))
    try:
        await asyncio.wait({work, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
    if not work.done():
        call.cancel()
        work.cancel()
        raise ClientGone
    return work.result()


def _error(error: grpc.aio.AioRpcError, params: Mapping[str, str]) -> JSONResponse:
    status, content, headers = http_error(error, params)
    return JSONResponse(content, status_code=status, headers=headers)


def _sse(data: dict[str, Any] | str) -> bytes:
    return f"data: {data if isinstance(data, str) else json.dumps(data)}\n\n".encode()


async def _stream(
    http: Request,
    chat: ChatRequest,
    stub: orchestrator_pb2_grpc.OrchestratorServiceAsyncStub,
    metadata: tuple[tuple[str, str], ...],
    timeout: float,
) -> Response:
    """A stream whose call failed before its first event is an HTTP error, not a 200 that breaks."""
    call = stub.GenerateStream(chat.generate, metadata=metadata, timeout=timeout)
    events = aiter(call)
    try:
        first = await _while_connected(http, call, anext(events, None))
    except grpc.aio.AioRpcError as e:
        return _error(e, chat.params)
    except ClientGone:
        return Response(status_code=499)
    identifier, created = completion_id(), int(time.time())

    def piece(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return chunk(identifier, chat.model, created, delta, finish)

    async def frames() -> AsyncIterator[bytes]:
        try:
            yield _sse(piece({"role": "assistant", "content": ""}))
            event = first
            while event is not None:
                kind = event.WhichOneof("event")
                if kind == "token":
                    yield _sse(piece({"content": event.token}))
                elif kind == "progress":
                    # An SSE comment: progress for clients that read it, invisible to OpenAI's parsers.
                    stage = orchestrator_pb2.Progress.Stage.Name(event.progress.stage)
                    yield f": progress {stage} layer {event.progress.layer}\n\n".encode()
                elif kind == "summary":
                    if event.summary.tool_calls:
                        yield _sse(piece({"tool_calls": openai_tool_calls(event.summary.tool_calls)}))
                    last = piece({}, finish_reason(event.summary))
                    last["smoa"] = extension(event.summary)
                    yield _sse(last)
                    if chat.include_usage:
                        yield _sse({**piece({}), "choices": [], "usage": openai_usage(event.summary)})
                event = await anext(events, None)
            yield _sse("[DONE]")
        except grpc.aio.AioRpcError as e:
            # Tokens were sent with a 200: the error can only be the stream's last event.
            _, content, _ = http_error(e, chat.params)
            yield _sse(content)
        finally:
            # A client that went away closes this generator: the call, and with it the fan-out, is cancelled.
            call.cancel()

    headers = {"Cache-Control": "no-cache", **rate_limit_headers(await call.initial_metadata())}
    return StreamingResponse(frames(), media_type="text/event-stream", headers=headers)
