"""SmoaClient: the orchestrator from synchronous code (a blocking grpc channel)."""

from __future__ import annotations

from collections.abc import Generator
from types import TracebackType
from typing import TYPE_CHECKING

import grpc

from smoa import from_wire, health
from smoa.client_core import ChannelOptions, ClientCore
from smoa.errors import error_from
from smoa.events import StreamEvent
from smoa.health import ServingStatus
from smoa.options import GenerateOptions
from smoa.overrides import GenerateOverrides
from smoa.request import Messages
from smoa.result import Result
from smoa.usage import CallerUsage, usage_from
from smoa.v1 import orchestrator_pb2, orchestrator_pb2_grpc

if TYPE_CHECKING:
    # typing.Unpack is 3.11's; the SDK runs on 3.10, and only type checkers read this.
    from typing_extensions import Unpack


class SmoaClient(ClientCore[grpc.Channel]):
    """A connection to the orchestrator. Thread-safe; one per process is enough (it multiplexes calls).

    >>> with SmoaClient("dns:///orchestrator:50051") as client:  # doctest: +SKIP
    ...     print(client.generate("What is 6 x 7?", n=4, k=2).text)

    Every call has a deadline: `timeout` seconds (default 300), or the call's own `timeout=`. Failures
    raise `smoa.SmoaError` subclasses with the service's details; bad arguments raise ValueError at once.
    `tls=True` uses the system's root certificates; a `TLS` gives others and a client certificate.
    `token` is sent as `authorization: Bearer ...` (see smoa.connection for how, with and without TLS).
    """

    def _open(
        self, target: str, credentials: grpc.ChannelCredentials | None, options: ChannelOptions
    ) -> grpc.Channel:
        if credentials is None:
            return grpc.insecure_channel(target, options)
        return grpc.secure_channel(target, credentials, options)

    def _opened(self) -> None:
        self._stub = orchestrator_pb2_grpc.OrchestratorServiceStub(self._channel)
        # Bytes in, bytes out: smoa.health encodes and decodes.
        self._check: grpc.UnaryUnaryMultiCallable[bytes, bytes] = self._health_channel.unary_unary(
            health.CHECK
        )
        self._list: grpc.UnaryUnaryMultiCallable[bytes, bytes] = self._health_channel.unary_unary(health.LIST)

    def generate(
        self,
        question_or_messages: Messages,
        options: GenerateOptions | None = None,
        *,
        timeout: float | None = None,
        **overrides: Unpack[GenerateOverrides],
    ) -> Result:
        """Runs one generation and returns its answer with the per-layer trace, cost and timings.

        `question_or_messages`: a question, or a conversation (`Message`s or {"role", "content"} dicts,
        the user's turn last). `options`: what the request asks for (`GenerateOptions`; None: the
        service's defaults, in SMoA mode). Keyword arguments set single fields of it over `options`:
        `generate(q, n=4, k=2)`, or `generate(q, options, seed=7)`. `timeout`: this call's deadline.
        """
        request, deadline = self._call(question_or_messages, options, overrides, timeout)
        try:
            response = self._stub.Generate(request, timeout=deadline, metadata=self._metadata)
        except grpc.RpcError as e:
            raise error_from(e) from e
        return from_wire.result(response)

    def stream(
        self,
        question_or_messages: Messages,
        options: GenerateOptions | None = None,
        *,
        timeout: float | None = None,
        **overrides: Unpack[GenerateOverrides],
    ) -> Generator[StreamEvent, None, None]:
        """Like `generate`, as events: `Progress` per layer stage, `Token`s of the answer, then a `Summary`.
        Arguments are checked now; the call starts at the first `next()`. Stopping early (break, close())
        cancels the call, and the services stop their work."""
        request, deadline = self._call(question_or_messages, options, overrides, timeout)
        return self._events(request, deadline)

    def _events(
        self, request: orchestrator_pb2.GenerateRequest, deadline: float
    ) -> Generator[StreamEvent, None, None]:
        call = self._stub.GenerateStream(request, timeout=deadline, metadata=self._metadata)
        try:
            for message in call:
                event = from_wire.event(message)
                if event is not None:
                    yield event
        except grpc.RpcError as e:
            raise error_from(e) from e
        finally:
            call.cancel()  # a no-op once the call has ended

    def usage(self, caller: str = "", *, timeout: float | None = None) -> list[CallerUsage]:
        """What `caller` (or every caller the service's quota file names) has spent in the current minute
        and day, with its quota. Only for an admin caller (PermissionDeniedError otherwise)."""
        deadline = self.connection.deadline(timeout)
        try:
            response = self._stub.Usage(
                orchestrator_pb2.UsageRequest(caller=caller), timeout=deadline, metadata=self._metadata
            )
        except grpc.RpcError as e:
            raise error_from(e) from e
        return usage_from(response)

    def health(self, service: str = "", *, timeout: float | None = None) -> ServingStatus:
        """The server's serving status ("" asks about the whole server), or that of one of its services
        ("smoa.v1.OrchestratorService"). Retried on UNAVAILABLE; an unreachable server raises
        UnavailableError."""
        deadline = self.connection.deadline(timeout)
        try:
            reply = self._check(health.encode_request(service), timeout=deadline, metadata=self._metadata)
        except grpc.RpcError as e:
            return self._health_failed(e)
        return health.decode_response(reply)

    def health_statuses(self, *, timeout: float | None = None) -> dict[str, ServingStatus]:
        """Every health entry of the server by name: liveness (""), each service, readiness
        ("smoa.v1.Readiness") and each LLM backend's ("smoa.v1.Readiness/<backend>")."""
        deadline = self.connection.deadline(timeout)
        try:
            reply = self._list(b"", timeout=deadline, metadata=self._metadata)
        except grpc.RpcError as e:
            raise error_from(e) from e
        return health.decode_statuses(reply)

    def close(self) -> None:
        self._channel.close()
        self._health_channel.close()

    def __enter__(self) -> SmoaClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
