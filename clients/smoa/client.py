"""SmoaClient: the orchestrator from synchronous code (a blocking grpc channel)."""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
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


class SmoaClient:
    """A connection to the orchestrator. Thread-safe; one per process is enough (it multiplexes calls).

    >>> with SmoaClient("dns:///orchestrator:50051") as client:  # doctest: +SKIP
    ...     print(client.generate("What is 6 x 7?", n=4, k=2).text)

    Every call has a deadline: `timeout` seconds (default 300), or the call's own `timeout=`. Failures
    raise `smoa.SmoaError` subclasses with the service's details; bad arguments raise ValueError at once.
    `tls=True` uses the system's root certificates; a `TLS` gives others and a client certificate.
    `token` is sent as `authorization: Bearer ...` (see smoa.connection for how, with and without TLS).
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

        def channel(options: list[tuple[str, str | int]]) -> grpc.Channel:
            if credentials is None:
                return grpc.insecure_channel(target, options)
            return grpc.secure_channel(target, credentials, options)

        self._channel = channel(self.connection.channel_options())
        # Health checks on a channel of their own, which does not skip servers that say NOT_SERVING.
        self._health_channel = channel(self.connection.channel_options(health_checked=False))
        self._stub = orchestrator_pb2_grpc.OrchestratorServiceStub(self._channel)
        # Bytes in, bytes out: smoa.health encodes and decodes.
        self._check: grpc.UnaryUnaryMultiCallable[bytes, bytes] = self._health_channel.unary_unary(
            health.CHECK
        )
        self._list: grpc.UnaryUnaryMultiCallable[bytes, bytes] = self._health_channel.unary_unary(health.LIST)
        self._metadata = self.connection.call_metadata()

    def generate(
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
        """Runs one generation and returns its answer with the per-layer trace, cost and timings.

        `question_or_messages`: a question, or a conversation (`Message`s or {"role", "content"} dicts,
        the user's turn last). None for n, k, max_layers (and model settings) takes the service's default.
        `roles` (explicit proposer roles) and `task_description` (roles written for it) exclude each other.
        `fused`: judge and moderator in one LLM call. `token_budget`: stop between stages past this many
        tokens. `seed`: same seed, same pipeline decisions. `quorum`: proposers a layer needs to go on
        (the service's default is max(k, ceil(n/2))); what was lost is in `Result.degradations`. `skips`:
        which calls SMoA may leave out when they would add nothing (`Skips`; the service's defaults).
        """
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
            response = self._stub.Generate(request, timeout=deadline, metadata=self._metadata)
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
    ) -> Generator[StreamEvent, None, None]:
        """Like `generate`, as events: `Progress` per layer stage, `Token`s of the answer, then a `Summary`.
        Arguments are checked now; the call starts at the first `next()`. Stopping early (break, close())
        cancels the call, and the services stop their work."""
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

    def health(self, service: str = "", *, timeout: float | None = None) -> ServingStatus:
        """The server's serving status ("" asks about the whole server), or that of one of its services
        ("smoa.v1.OrchestratorService"). Retried on UNAVAILABLE; an unreachable server raises
        UnavailableError."""
        deadline = self.connection.deadline(timeout)
        try:
            reply = self._check(health.encode_request(service), timeout=deadline, metadata=self._metadata)
        except grpc.RpcError as e:
            if e.code() == grpc.StatusCode.NOT_FOUND:
                return ServingStatus.SERVICE_UNKNOWN
            raise error_from(e) from e
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
