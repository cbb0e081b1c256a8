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


class Undecodable:
    """A request whose bytes did not decode (a string field that is not valid UTF-8, a truncated message):
    handed to the handler in its place, so it is refused with a status rather than failing in gRPC."""

    def __init__(self, error: Exception):
        self.error = error


def tolerant(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    if deserializer is None:
        return None

    def decode(data: bytes) -> Any:
        try:
            return deserializer(data)
        except Exception as e:  # protobuf's DecodeError, whatever the message type
            return Undecodable(e)

    return decode


def wrapped(
    details: grpc.HandlerCallDetails,
    handler: Handler | None,
    around_unary: Callable[[Unary], Unary],
    around_stream: Callable[[Stream], Stream],
    decode: Callable[[Callable[[bytes], Any] | None], Callable[[bytes], Any] | None] = lambda d: d,
) -> Handler | None:
    """`handler` with its behaviour wrapped, and its request deserializer passed through `decode`."""
    if handler is None or details.method.startswith("/grpc."):
        return handler
    if handler.unary_unary is not None:
        return grpc.unary_unary_rpc_method_handler(
            around_unary(handler.unary_unary),  # type: ignore[arg-type]
            request_deserializer=decode(handler.request_deserializer),
            response_serializer=handler.response_serializer,
        )
    if handler.unary_stream is not None and inspect.isasyncgenfunction(handler.unary_stream):
        return grpc.unary_stream_rpc_method_handler(
            around_stream(handler.unary_stream),  # type: ignore[arg-type]
            request_deserializer=decode(handler.request_deserializer),
            response_serializer=handler.response_serializer,
        )
    return handler
