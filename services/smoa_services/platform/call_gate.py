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
                self.authenticator.check(context, method)
                caller = self.admission.admit()
                task = self.drain.enter()
                try:
                    return await behaviour(request, context)
                except asyncio.CancelledError:
                    self.drain.raise_if_cut(task)
                    raise
                finally:
                    self.drain.leave(task)
                    self.admission.leave(caller)
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
                self.authenticator.check(context, method)
                caller = self.admission.admit()
                task = self.drain.enter()
                try:
                    async for message in behaviour(request, context):
                        yield message
                    return
                except asyncio.CancelledError:
                    self.drain.raise_if_cut(task)
                    raise
                finally:
                    self.drain.leave(task)
                    self.admission.leave(caller)
            except grpc.aio.AbortError:
                raise
            except Exception as error:
                status = status_of(error, method, context)
            await abort(context, status)

        return run
