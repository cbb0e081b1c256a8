"""One LLM backend as the ChatModel uses it: its OpenAI client, its concurrency slots, its circuit breaker
and the latencies of its recent calls."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import openai
from opentelemetry import trace

from smoa_services.config import Backend, Settings
from smoa_services.latency import LatencyWindow
from smoa_services.llm.breaker import Breaker, BreakerPolicy, State
from smoa_services.llm.slots import Slots

log = logging.getLogger(__name__)

# A call is overdue (and gives up its slot) after this many times the backend's p95, and never before this.
OVERDUE_P95_MULTIPLE = 4.0
MIN_OVERDUE_SECONDS = 1.0

# (backend name, new state): readiness and logs follow the breakers through this.
BreakerListener = Callable[[str, State], None]


class Endpoint:
    def __init__(self, name: str, backend: Backend, settings: Settings, listeners: list[BreakerListener]):
        self.name = name
        self.backend = backend
        # Retries, hedges and timeouts are the ChatModel's, within each call's budget: the SDK's own would
        # not know the budget.
        self.client = openai.AsyncOpenAI(
            base_url=backend.base_url,
            api_key=backend.api_key(),
            max_retries=0,
            timeout=settings.llm_timeout_seconds,
        )
        self.slots = Slots(settings.llm_concurrency)
        self.latency = LatencyWindow()
        self.breaker = Breaker(
            BreakerPolicy(
                consecutive_failures=settings.breaker_consecutive_failures,
                failure_ratio=settings.breaker_failure_ratio,
                cooldown_seconds=settings.breaker_cooldown_seconds,
            ),
            on_change=self._changed,
        )
        self._listeners = listeners

    def overdue_after(self) -> float | None:
        p95 = self.latency.quantile(0.95)
        return None if p95 is None else max(MIN_OVERDUE_SECONDS, OVERDUE_P95_MULTIPLE * p95)

    def _changed(self, state: State) -> None:
        name = self.name or "default"
        log.warning("LLM backend %r: circuit breaker %s", name, state.value)
        trace.get_current_span().add_event(
            "smoa.breaker", {"smoa.backend": name, "smoa.breaker.state": state.value}
        )
        if state is State.OPEN:
            # Half open after the cool-down even if no call comes to notice (none will while readiness says
            # NOT_SERVING and clients route elsewhere).
            loop = asyncio.get_running_loop()
            loop.call_later(
                max(0.0, self.breaker.open_until - loop.time()), lambda: self.breaker.tick(loop.time())
            )
        for listener in self._listeners:
            listener(self.name, state)
