"""AsyncSmoaClient: the orchestrator from asyncio code (a grpc.aio channel)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from types import TracebackType

import grpc

from smoa import from_wire, health
from smoa.connection import (
    DEFAULT_MAX_MESSAGE_BYTES,
    DEFAULT_TARGET,
    DEFAULT_TIMEOUT_SECONDS,
    TLS,
    Connection,
)
from smoa.errors import error_from
from smoa.events import StreamEvent
from smoa.health import ServingStatus
from smoa.request import Messages, ModelSettings, Skips, generate_request
from smoa.result import Mode, Result
from smoa.v1 import orchestrator_pb2, orchestrator_pb2_grpc


class AsyncSmoaClient:
    """SmoaClient's asyncio twin: the same arguments, results, events and errors. Create it inside the
    event loop that uses it (grpc.aio channels belong to one loop).

    >>> async with AsyncSmoaClient("127.0.0.1:50051") as client:  # doctest: +SKIP
    ...     async for event in client.stream("What is 6 x 7?"):
    ...         print(event)

    Cancelling the task awaiting a call cancels the RPC (and the services' work) and raises
    asyncio.CancelledError, as asyncio code expects.
    """

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

        def channel(options: list[tuple[str, str | int]]) -> grpc.aio.Channel:
            if credentials is None:
                return grpc.aio.insecure_channel(target, options)
            return grpc.aio.secure_channel(target, credentials, options)

        self._channel = channel(self.connection.channel_options())
        # Health checks on a channel of their own, which does not skip servers that say NOT_SERVING.
        self._health_channel = channel(self.connection.channel_options(health_checked=False))
        self._stub = orchestrator_pb2_grpc.OrchestratorServiceStub(self._channel)
        self._check: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = self._health_channel.unary_unary(
            health.CHECK
        )
        self._list: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = self._health_channel.unary_unary(
            health.LIST
        )
        self._metadata = self.connection.call_metadata()

    async def generate(
        self,
        question_or_messages: Messages,
        *,
        mode: Mode | str = Mode.SMOA,
        n: int | None = None,
        k: int | None = None,
        max_layers: int | None = None,
        roles: Sequence[str] | None = None,
        task_description: str | None = None,
        model: ModelSettings | str | None = None,
        agents: Mapping[int, ModelSettings | str] | None = None,
        fused: bool = False,
        token_budget: int | None = None,
        seed: int | None = None,
        quorum: int | None = None,
        skips: Skips | None = None,
        timeout: float | None = None,
    ) -> Result:
        """See SmoaClient.generate."""
        request = generate_request(
            question_or_messages,
            mode=mode,
            n=n,
            k=k,
            max_layers=max_layers,
            roles=roles,
            task_description=task_description,
            model=model,
            agents=agents,
            fused=fused,
            token_budget=token_budget,
            seed=seed,
            quorum=quorum,
            skips=skips,
        )
        deadline = self.connection.deadline(timeout)
        try:
            response = await self._stub.Generate(request, timeout=deadline, metadata=self._metadata)
        except grpc.RpcError as e:
            raise error_from(e) from e
        return from_wire.result(response)

    def stream(
        self,
        question_or_messages: Messages,
        *,
        mode: Mode | str = Mode.SMOA,
        n: int | None = None,
        k: int | None = None,
        max_layers: int | None = None,
        roles: Sequence[str] | None = None,
        task_description: str | None = None,
        model: ModelSettings | str | None = None,
        agents: Mapping[int, ModelSettings | str] | None = None,
        fused: bool = False,
        token_budget: int | None = None,
        seed: int | None = None,
        quorum: int | None = None,
        skips: Skips | None = None,
        timeout: float | None = None,
    ) -> AsyncGenerator[StreamEvent, None]:
        """See SmoaClient.stream: `async for event in client.stream(...)`. Arguments are checked now (so
        this is not a coroutine); leaving the loop early (or aclose())
        cancels the call."""
        request = generate_request(
            question_or_messages,
            mode=mode,
            n=n,
            k=k,
            max_layers=max_layers,
            roles=roles,
            task_description=task_description,
            model=model,
            agents=agents,
            fused=fused,
            token_budget=token_budget,
            seed=seed,
            quorum=quorum,
            skips=skips,
        )
        return self._events(request, self.connection.deadline(timeout))

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

    async def health(self, service: str = "", *, timeout: float | None = None) -> ServingStatus:
        """See SmoaClient.health."""
        deadline = self.connection.deadline(timeout)
        try:
            reply = await self._check(
                health.encode_request(service), timeout=deadline, metadata=self._metadata
            )
        except grpc.RpcError as e:
            if e.code() == grpc.StatusCode.NOT_FOUND:
                return ServingStatus.SERVICE_UNKNOWN
            raise error_from(e) from e
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
