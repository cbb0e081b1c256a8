"""The way in of every smoa RPC, in one pass: a request that does not decode is refused, the caller is
checked (auth.py), admitted (admission.py) and tracked for the drain (drain.py), and whatever the handler
raises becomes its status (failure.py).

One interceptor rather than a chain of four: grpc.aio awaits every interceptor and builds a new handler in
each for every call, and each wrapper of a streaming call is one more async generator the messages pass
through. Here a method's wrapped handler is built once and kept; a call costs one wrapper. gRPC's own
services (health, reflection) pass unwrapped."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import grpc

from smoa_services.access.auth import Authenticator
from smoa_services.platform.admission import Admission
from smoa_services.platform.drain import Drain
from smoa_services.rpc.failure import abort, refuse_undecodable, status_of
from smoa_services.rpc.rpc_handler import Context, Continuation, Handler, Stream, Unary, tolerant, wrapped


class CallGate(grpc.aio.ServerInterceptor):
    def __init__(self, authenticator: Authenticator, admission: Admission, drain: Drain):
        self.authenticator = authenticator
        self.admission = admission
        self.drain = drain
        # By method served: its handler as wrapped here (a service's handlers do not change while it
        # serves). Methods nobody serves are not kept: any caller can name millions.
        self._handlers: dict[str, Handler] = {}

    async def intercept_service(
        self, continuation: Continuation, details: grpc.HandlerCallDetails
    ) -> Handler | None:
        method = details.method
        if method in self._handlers:
            return self._handlers[method]
        handler = wrapped(
            details,
            await continuation(details),
            lambda behaviour: self._unary(behaviour, method),
            lambda behaviour: self._stream(behaviour, method),
            decode=tolerant,
        )
        if handler is not None:
            self._handlers[method] = handler
        return handler

    def _unary(self, behaviour: Unary, method: str) -> Unary:
        async def run(request: Any, context: Context) -> Any:
            try:
                refuse_undecodable(request)
                with _Admitted(self, context, method):
                    return await behaviour(request, context)
            except grpc.aio.AbortError:
                raise
            except Exception as error:
                status = status_of(error, method, context)
            # After the except block, so the abort's exception carries no context chain back to the error
            # and its causes (the server's tracing records that exception, chain included).
            await abort(context, status)

        return run

    def _stream(self, behaviour: Stream, method: str) -> Stream:
        async def run(request: Any, context: Context) -> AsyncIterator[Any]:
            try:
                refuse_undecodable(request)
                with _Admitted(self, context, method):
                    async for message in behaviour(request, context):
                        yield message
                return
            except grpc.aio.AbortError:
                raise
            except Exception as error:
                status = status_of(error, method, context)
            await abort(context, status)

        return run


class _Admitted:
    """One call let in: its caller checked and counted in, its task tracked for the drain, both left when
    it ends; a call the drain cut answers SHUTTING_DOWN. A plain context manager (not a generator-based
    one): it is entered on every call."""

    def __init__(self, gate: CallGate, context: Context, method: str):
        gate.authenticator.check(context, method)
        self.gate = gate
        self.caller = gate.admission.admit()

    def __enter__(self) -> None:
        self.task = self.gate.drain.enter()

    def __exit__(self, kind: type[BaseException] | None, error: object, trace: object) -> None:
        try:
            if kind is asyncio.CancelledError:
                self.gate.drain.raise_if_cut(self.task)
        finally:
            self.gate.drain.leave(self.task)
            self.gate.admission.leave(self.caller)
