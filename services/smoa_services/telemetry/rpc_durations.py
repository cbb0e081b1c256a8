"""RPC duration histograms (``rpc.server.call.duration``, ``rpc.client.call.duration``) with the RPC
conventions' attributes: ``rpc.system.name``, the fully qualified ``rpc.method`` and the status code's
name in ``rpc.response.status_code``. gRPC's own services (health, reflection) are not measured: probes
would drown the figures, as they would the traces."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import grpc
from opentelemetry.metrics import Histogram

from smoa_services.rpc.rpc_handler import Context, Continuation, Handler, Stream, Unary, wrapped


def _attributes(method: str, code: str) -> dict[str, str]:
    return {"rpc.system.name": "grpc", "rpc.method": method.lstrip("/"), "rpc.response.status_code": code}


def _server_code(context: Context, error: BaseException | None) -> str:
    # A failure became a status in failure.py (context.abort), which the context remembers.
    code = context.code()
    if code is not None:
        return code.name if isinstance(code, grpc.StatusCode) else grpc.StatusCode(code).name
    if error is None:
        return "OK"
    # A stream its caller left is closed (GeneratorExit) or its task cancelled.
    return "CANCELLED" if isinstance(error, (asyncio.CancelledError, GeneratorExit)) else "UNKNOWN"


class ServerDurations(grpc.aio.ServerInterceptor):
    def __init__(self, histogram: Histogram):
        self.histogram = histogram

    async def intercept_service(
        self, continuation: Continuation, details: grpc.HandlerCallDetails
    ) -> Handler | None:
        method = details.method
        handler = await continuation(details)
        return wrapped(details, handler, lambda b: self._unary(method, b), lambda b: self._stream(method, b))

    def _record(self, method: str, started: float, context: Context, error: BaseException | None) -> None:
        code = _server_code(context, error)
        self.histogram.record(time.perf_counter() - started, _attributes(method, code))

    def _unary(self, method: str, behaviour: Unary) -> Unary:
        async def run(request: Any, context: Context) -> Any:
            started = time.perf_counter()
            try:
                reply = await behaviour(request, context)
            except BaseException as e:
                self._record(method, started, context, e)
                raise
            self._record(method, started, context, None)
            return reply

        return run

    def _stream(self, method: str, behaviour: Stream) -> Stream:
        async def run(request: Any, context: Context) -> AsyncIterator[Any]:
            started = time.perf_counter()
            try:
                async for message in behaviour(request, context):
                    yield message
            except BaseException as e:
                self._record(method, started, context, e)
                raise
            self._record(method, started, context, None)

        return run


class ClientDurations(grpc.aio.UnaryUnaryClientInterceptor):
    """Peers are only called unary (the orchestrator's fan-out, the gateway's Generate). The gateway's
    stream is measured by the orchestrator's server histogram."""

    def __init__(self, histogram: Histogram):
        self.histogram = histogram

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        started = time.perf_counter()
        method = details.method.decode() if isinstance(details.method, bytes) else details.method
        code = "OK"
        try:
            call = await continuation(details, request)
            await call
        except grpc.aio.AioRpcError as e:
            code = e.code().name
            raise
        except asyncio.CancelledError:
            code = "CANCELLED"
            raise
        finally:
            self.histogram.record(time.perf_counter() - started, _attributes(method, code))
        return call
