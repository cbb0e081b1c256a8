"""What SmoaClient and AsyncSmoaClient share: the constructor (a Connection, a channel for calls and one
for health checks), turning a call's arguments into a checked request and deadline, and reading a failed
health check. They differ only in the grpc module their channels come from and in awaiting."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, TypeVar

import grpc
import grpc.aio

from smoa.connection import (
    DEFAULT_MAX_MESSAGE_BYTES,
    DEFAULT_TARGET,
    DEFAULT_TIMEOUT_SECONDS,
    TLS,
    Connection,
)
from smoa.errors import error_from
from smoa.health import ServingStatus
from smoa.options import GenerateOptions, with_overrides
from smoa.overrides import GenerateOverrides
from smoa.request import Messages, generate_request
from smoa.v1 import orchestrator_pb2

Channel = TypeVar("Channel", grpc.Channel, grpc.aio.Channel)
ChannelOptions = list[tuple[str, str | int]]


class ClientCore(Generic[Channel]):
    def __init__(
        self,
        target: str = DEFAULT_TARGET,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        tls: TLS | bool = False,
        token: str | None = None,
        metadata: Sequence[tuple[str, str]] = (),
        keepalive_seconds: float = 30.0,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        options: Sequence[tuple[str, str | int]] = (),
    ):
        """`options`: raw gRPC channel arguments, appended last (see smoa.connection.Connection)."""
        self.connection = Connection(
            target,
            timeout,
            TLS() if tls is True else tls or None,
            token,
            tuple(metadata),
            keepalive_seconds=keepalive_seconds,
            max_message_bytes=max_message_bytes,
            options=tuple(options),
        )
        credentials = self.connection.credentials()
        self._channel: Channel = self._open(target, credentials, self.connection.channel_options())
        # Health checks on a channel of their own, which does not skip servers that say NOT_SERVING.
        self._health_channel: Channel = self._open(
            target, credentials, self.connection.channel_options(health_checked=False)
        )
        self._metadata = self.connection.call_metadata()
        self._opened()

    def _open(
        self, target: str, credentials: grpc.ChannelCredentials | None, options: ChannelOptions
    ) -> Channel:
        """A channel of this client's kind (None: plaintext)."""
        raise NotImplementedError

    def _opened(self) -> None:
        """Makes the stub and the health calls on the channels just opened."""
        raise NotImplementedError

    def _call(
        self,
        question_or_messages: Messages,
        options: GenerateOptions | None,
        overrides: GenerateOverrides,
        timeout: float | None,
    ) -> tuple[orchestrator_pb2.GenerateRequest, float]:
        """The checked request and the call's deadline in seconds."""
        request = generate_request(question_or_messages, with_overrides(options, overrides))
        return request, self.connection.deadline(timeout)

    @staticmethod
    def _health_failed(error: grpc.RpcError) -> ServingStatus:
        """SERVICE_UNKNOWN for a service the server does not know; any other failure raises."""
        if error.code() == grpc.StatusCode.NOT_FOUND:
            return ServingStatus.SERVICE_UNKNOWN
        raise error_from(error) from error
