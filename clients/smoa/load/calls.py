"""The one file that talks to the orchestrator, through the SDK (AsyncSmoaClient): a unary generate(),
or a stream() timed to its first token. Everything else in the load generator sees only `Outcome`s."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType

from smoa.async_client import AsyncSmoaClient
from smoa.connection import TLS
from smoa.errors import SmoaError
from smoa.events import Summary, Token
from smoa.load.sample import OK
from smoa.load.shape import LoadRequest
from smoa.result import Result


@dataclass(frozen=True)
class Outcome:
    # "OK" or the gRPC status code's name.
    status: str
    detail: str = ""
    # time.perf_counter() at the first token of a stream.
    first_token: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    # The stages that degraded in a successful answer (a proposer lost, a fallback): empty when none did.
    degraded: tuple[str, ...] = ()


Send = Callable[[LoadRequest], Awaitable[Outcome]]


def _succeeded(result: Result | None, first_token: float | None = None) -> Outcome:
    if result is None:
        return Outcome(OK, "", first_token)
    total = result.cost.total
    stages = tuple(sorted({d.stage for d in result.degradations}))
    return Outcome(OK, "", first_token, total.input_tokens, total.output_tokens, stages)


class Orchestrator:
    """The SDK's client (round robin over every address of a dns:/// name, like the services). Open it
    inside the running event loop: grpc.aio binds a channel to the loop current when it is made."""

    def __init__(self, target: str, timeout: float, tls: TLS | bool = False, token: str | None = None):
        self.client = AsyncSmoaClient(target, timeout=timeout, tls=tls, token=token)

    async def generate(self, request: LoadRequest) -> Outcome:
        try:
            result = await self.client.generate(request.question, request.options)
        except SmoaError as e:
            return Outcome(e.code, e.message)
        return _succeeded(result)

    async def generate_stream(self, request: LoadRequest) -> Outcome:
        first_token: float | None = None
        result: Result | None = None
        try:
            async for event in self.client.stream(request.question, request.options):
                if isinstance(event, Token) and first_token is None:
                    first_token = time.perf_counter()
                elif isinstance(event, Summary):
                    result = event.result
        except SmoaError as e:
            return Outcome(e.code, e.message, first_token)
        return _succeeded(result, first_token)

    def sender(self, stream: bool) -> Send:
        return self.generate_stream if stream else self.generate

    async def close(self) -> None:
        await self.client.close()

    async def __aenter__(self) -> Orchestrator:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
