"""The OpenAI-compatible HTTP gateway: `POST /v1/chat/completions` (JSON or SSE), `GET /v1/models`,
`/healthz` and `/readyz`, translated onto the orchestrator's Generate and GenerateStream over one
long-lived gRPC channel. No pipeline logic lives here: chat_request.py and chat_response.py translate,
http_errors.py maps statuses. The caller's `Authorization` header goes to the orchestrator as it came, so
the orchestrator's tokens (auth.py) decide who may call."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Mapping
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import grpc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from grpc_health.v1 import health_pb2, health_pb2_grpc
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from starlette.exceptions import HTTPException as StarletteHTTPException

from smoa.v1 import orchestrator_pb2, orchestrator_pb2_grpc
from smoa_services.config import Settings
from smoa_services.gateway.bad_field import BadField, UnknownModel
from smoa_services.gateway.chat_request import (
    BODY_SCHEMA,
    MODES,
    ChatRequest,
    chat_request,
)
from smoa_services.gateway.chat_response import (
    chunk,
    completion,
    completion_id,
    extension,
    finish_reason,
    openai_usage,
)
from smoa_services.gateway.http_errors import body, http_error, rate_limit_headers
from smoa_services.gateway.openai_tools import openai_tool_calls
from smoa_services.platform.channel import channel as peer_channel
from smoa_services.telemetry import Telemetry

# The orchestrator's deadline is its own SMOA_MAX_GENERATION_SECONDS; the gateway waits a little longer,
# so the orchestrator's status (not the gateway's timeout) is what the client sees.
DEADLINE_MARGIN_SECONDS = 5.0

T = TypeVar("T")
log = logging.getLogger(__name__)


def create_app(settings: Settings, telemetry: Telemetry | None = None) -> FastAPI:
    """``telemetry``: none recorded when not given."""
    observed = telemetry or Telemetry.load("gateway", environ={})
    channel: dict[str, grpc.aio.Channel] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Round robin over every orchestrator replica, ejecting frozen or failing ones, as the orchestrator
        # reaches its peers.
        channel["orchestrator"] = peer_channel(
            settings.orchestrator_target, settings, observed, with_peer_token=False
        )
        yield
        await channel["orchestrator"].close()

    app = FastAPI(title="smoa gateway", version="0.1.0", lifespan=lifespan)
    # A server span per request (the root of its trace) and its duration; probes left out. The stable HTTP
    # conventions (http.server.request.duration, in seconds like every other duration here) unless the
    # operator chose otherwise: the instrumentation reads this once per process. With nothing recorded,
    # no instrumentation: its middleware would still run on every request.
    if observed.recording or observed.measuring:
        os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http")
        FastAPIInstrumentor.instrument_app(
            app,
            tracer_provider=observed.traces,
            meter_provider=observed.meters,
            excluded_urls="healthz,readyz",
        )
    # Set on SIGTERM (__main__.py): readiness fails while the port stays open, so load balancers stop
    # sending work before the gateway stops taking it.
    app.state.draining = False
    timeout = settings.max_generation_seconds + DEADLINE_MARGIN_SECONDS

    def stub() -> orchestrator_pb2_grpc.OrchestratorServiceAsyncStub:
        return orchestrator_pb2_grpc.OrchestratorServiceStub(channel["orchestrator"])

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> Response:
        if app.state.draining:
            return JSONResponse({"status": "draining"}, status_code=503)
        try:
            reply = await health_pb2_grpc.HealthStub(channel["orchestrator"]).Check(
                health_pb2.HealthCheckRequest(service="smoa.v1.OrchestratorService"), timeout=2
            )
            ready = reply.status == health_pb2.HealthCheckResponse.SERVING
        except grpc.aio.AioRpcError:
            ready = False
        return JSONResponse({"status": "ready" if ready else "not ready"}, status_code=200 if ready else 503)

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [_model(name) for name in MODES]}

    @app.get("/v1/models/{model:path}")
    async def model(model: str) -> Response:
        if model.partition(":")[0] not in MODES:
            refused = UnknownModel(f"the model {model[:40]!r} does not exist: one of {', '.join(MODES)}")
            return _refused(refused)
        return JSONResponse(_model(model))

    @app.post(
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
        raw = await _body_within(http, settings.max_message_bytes)
        if raw is None:
            return JSONResponse(
                body(
                    f"the body is over the limit of {settings.max_message_bytes} bytes",
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
            return _refused(e)
        metadata = tuple(("authorization", v) for v in http.headers.getlist("authorization"))
        if chat.stream:
            return await _stream(http, chat, stub(), metadata, timeout)
        call = stub().Generate(chat.generate, metadata=metadata, timeout=timeout)
        try:
            summary = await _while_connected(http, call, call)
        except grpc.aio.AioRpcError as e:
            return _error(e, chat.params)
        except ClientGone:
            return Response(status_code=499)
        headers = rate_limit_headers(await call.initial_metadata())
        return JSONResponse(completion(summary, chat.model, completion_id()), headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_exception(http: Request, e: StarletteHTTPException) -> Response:
        """Routing's own errors (an unknown path, a wrong method) in OpenAI's shape too."""
        message = f"{e.detail}: {http.method} {http.url.path}"
        return JSONResponse(
            body(message, "invalid_request_error"), status_code=e.status_code, headers=e.headers
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(http: Request, e: RequestValidationError) -> Response:
        return JSONResponse(
            body(f"invalid request: {e.errors()}"[:500], "invalid_request_error"), status_code=400
        )

    return app


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


def _refused(e: BadField) -> JSONResponse:
    return JSONResponse(body(str(e), "invalid_request_error", e.param or None, e.code), status_code=e.status)


def _model(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": 0, "owned_by": "smoa"}


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
