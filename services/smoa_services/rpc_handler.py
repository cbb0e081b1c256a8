"""Wrapping smoa's RPC handlers, for the server interceptors that run around every call (failure.py maps
failures to statuses, drain.py tracks and cuts calls in flight). smoa's RPCs are unary or server streaming
with async generators; gRPC's own services (health, reflection) and any other handler pass unwrapped."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeAlias

import grpc

Context = grpc.aio.ServicerContext[Any, Any]
Unary = Callable[[Any, Context], Awaitable[Any]]
Stream = Callable[[Any, Context], AsyncIterator[Any]]
# The grpc stubs make this generic; grpcio's own class is not subscriptable at run time.
Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"
Continuation: TypeAlias = "Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]]"


def wrapped(
    details: grpc.HandlerCallDetails,
    handler: Handler | None,
    around_unary: Callable[[Unary], Unary],
    around_stream: Callable[[Stream], Stream],
) -> Handler | None:
    if handler is None or details.method.startswith("/grpc."):
        return handler
    if handler.unary_unary is not None:
        return grpc.unary_unary_rpc_method_handler(
            around_unary(handler.unary_unary),  # type: ignore[arg-type]
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
    if handler.unary_stream is not None and inspect.isasyncgenfunction(handler.unary_stream):
        return grpc.unary_stream_rpc_method_handler(
            around_stream(handler.unary_stream),  # type: ignore[arg-type]
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
    return handler
