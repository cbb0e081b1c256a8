"""AsyncSmoaClient: the orchestrator from asyncio code (a grpc.aio channel)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from types import TracebackType
from typing import TYPE_CHECKING

import grpc
import grpc.aio

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


class AsyncSmoaClient(ClientCore[grpc.aio.Channel]):
    """SmoaClient's asyncio twin: the same arguments, results, events and errors. Create it inside the
    event loop that uses it (grpc.aio channels belong to one loop).

    >>> async with AsyncSmoaClient("127.0.0.1:50051") as client:  # doctest: +SKIP
    ...     async for event in client.stream("What is 6 x 7?"):
    ...         print(event)

    Cancelling the task awaiting a call cancels the RPC (and the services' work) and raises
    asyncio.CancelledError, as asyncio code expects.
    """

    def _open(
        self, target: str, credentials: grpc.ChannelCredentials | None, options: ChannelOptions
    ) -> grpc.aio.Channel:
        if credentials is None:
            return grpc.aio.insecure_channel(target, options)
        return grpc.aio.secure_channel(target, credentials, options)

    def _opened(self) -> None:
        self._stub = orchestrator_pb2_grpc.OrchestratorServiceStub(self._channel)
        self._check: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = self._health_channel.unary_unary(
            health.CHECK
        )
        self._list: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = self._health_channel.unary_unary(
            health.LIST
        )

    async def generate(
        self,
        question_or_messages: Messages,
        options: GenerateOptions | None = None,
        *,
        timeout: float | None = None,
        **overrides: Unpack[GenerateOverrides],
    ) -> Result:
        """See SmoaClient.generate."""
        request, deadline = self._call(question_or_messages, options, overrides, timeout)
        try:
            response = await self._stub.Generate(request, timeout=deadline, metadata=self._metadata)
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
    ) -> AsyncGenerator[StreamEvent, None]:
        """See SmoaClient.stream: `async for event in client.stream(...)`. Arguments are checked now (so
        this is not a coroutine); leaving the loop early (or aclose()) cancels the call."""
        request, deadline = self._call(question_or_messages, options, overrides, timeout)
        return self._events(request, deadline)

    async def _events(
        self, request: orchestrator_pb2.GenerateRequest, deadline: float
    ) -> AsyncGenerator[StreamEvent, None]:
        call = self._stub.GenerateStream(request, timeout=deadline, metadata=self._metadata)
        try:
            async for message in call:
                event = from_wire.event(message)
                if event is not None:
                    yield event
        except grpc.RpcError as e:
            raise error_from(e) from e
        finally:
            call.cancel()  # a no-op once the call has ended

    async def usage(self, caller: str = "", *, timeout: float | None = None) -> list[CallerUsage]:
        """See SmoaClient.usage."""
        deadline = self.connection.deadline(timeout)
        try:
            response = await self._stub.Usage(
                orchestrator_pb2.UsageRequest(caller=caller), timeout=deadline, metadata=self._metadata
            )
        except grpc.RpcError as e:
            raise error_from(e) from e
        return usage_from(response)

    async def health(self, service: str = "", *, timeout: float | None = None) -> ServingStatus:
        """See SmoaClient.health."""
        deadline = self.connection.deadline(timeout)
        try:
            reply = await self._check(
                health.encode_request(service), timeout=deadline, metadata=self._metadata
            )
        except grpc.RpcError as e:
            return self._health_failed(e)
        return health.decode_response(reply)

    async def health_statuses(self, *, timeout: float | None = None) -> dict[str, ServingStatus]:
        """See SmoaClient.health_statuses."""
        deadline = self.connection.deadline(timeout)
        try:
            reply = await self._list(b"", timeout=deadline, metadata=self._metadata)
        except grpc.RpcError as e:
            raise error_from(e) from e
        return health.decode_statuses(reply)

    async def close(self, grace: float | None = None) -> None:
        """Closes the channel; `grace` seconds lets calls in flight finish (None: cancel them)."""
        await self._channel.close(grace)
        await self._health_channel.close(grace)

    async def __aenter__(self) -> AsyncSmoaClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.close()
