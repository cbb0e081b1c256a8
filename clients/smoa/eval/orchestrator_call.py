"""The one file that talks to the orchestrator (through the SDK's AsyncSmoaClient): one generation per
(system, item), turned into the numbers the evaluation keeps. Switching transport changes this file
alone."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from types import TracebackType

from smoa.async_client import AsyncSmoaClient
from smoa.errors import SmoaError
from smoa.eval.systems import EvalSettings, System
from smoa.health import ServingStatus
from smoa.result import Result


@dataclass(frozen=True)
class RoleUsage:
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True)
class Answer:
    text: str
    # Wall seconds from sending the request to the whole response, as the caller sees it.
    latency: float
    calls: int
    input_tokens: int
    output_tokens: int
    # Per stage ("proposer", "judge", "moderator", "aggregator", "roles", "single"), summed over layers.
    by_role: dict[str, RoleUsage] = field(default_factory=dict)
    # Layers run (where SMoA stopped; MoA: always --layers; single: 0).
    layers: int = 0
    stop_reason: str = ""
    # Some tokens were counted by the services because the backend reported no usage.
    estimated: bool = False
    # The calls left out or added, by action ("judge_skipped", "moderator_skipped", "synthesis_skipped", ...).
    steps: tuple[str, ...] = ()


def answer_from(result: Result, latency: float) -> Answer:
    total = result.cost.total
    return Answer(
        text=result.text,
        latency=latency,
        calls=total.calls,
        input_tokens=total.input_tokens,
        output_tokens=total.output_tokens,
        by_role={
            stage: RoleUsage(u.calls, u.input_tokens, u.output_tokens)
            for stage, u in result.cost.by_stage().items()
        },
        layers=len(result.layers),
        stop_reason=result.stop_reason.value,
        estimated=total.estimated,
        steps=tuple(s.action for s in result.steps),
    )


class OrchestratorAnswers:
    """Open inside the event loop that uses it (grpc.aio channels belong to one loop)."""

    def __init__(self, target: str, settings: EvalSettings):
        self.target, self.settings = target, settings
        self._client = AsyncSmoaClient(target, timeout=settings.timeout)

    async def answer(self, question: str, system: System) -> Answer:
        options = self.settings.options_for(system)
        started = time.perf_counter()
        result = await self._client.generate(question, options)
        return answer_from(result, time.perf_counter() - started)

    async def check(self) -> None:
        """Fails at once, with the address, if the orchestrator is not there or not serving."""
        status = await self._client.health(timeout=10)
        if status is not ServingStatus.SERVING:
            raise SmoaError("UNAVAILABLE", f"the orchestrator at {self.target} is {status.value}")

    async def __aenter__(self) -> OrchestratorAnswers:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self._client.close()
