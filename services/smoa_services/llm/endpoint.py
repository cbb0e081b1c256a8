"""One LLM backend as the ChatModel uses it: its OpenAI client, its concurrency slots (shared fairly by
callers), its circuit breaker and the latencies of its recent calls, which say when an attempt is taking
too long."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import openai
from opentelemetry import trace

from smoa_services.config import Backend, Settings
from smoa_services.llm.breaker import Breaker, BreakerPolicy, State
from smoa_services.llm.completion import Reply
from smoa_services.llm.fair_slots import FairSlots
from smoa_services.telemetry import attributes
from smoa_services.timing.latency import LatencyWindow

log = logging.getLogger(__name__)

# An attempt is abandoned (and retried, while the call's budget allows) after this many times the backend's
# observed p99 (of whole calls, or of seconds per token written times the tokens the call may write,
# whichever is longer), never sooner than MIN_ATTEMPT_SECONDS; each retry gets twice as long as the one
# before, so a call that is slow for a good reason (a long answer) still fits in time. Until enough calls were
# seen, an attempt that is not the last may take half of what the call has left.
ATTEMPT_P99_MULTIPLE = 4.0
MIN_ATTEMPT_SECONDS = 1.0
# Only answers this long say how fast the backend writes: in a short one the time before the first token,
# spread over a few, would make a long call's allowance hundreds of times too generous.
RATE_FROM_TOKENS = 32

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
            # The SDK's own aiohttp transport spends about a third less CPU a call than its httpx default
            # (benchmarks/bench_overhead.py); every call of a request pays it.
            http_client=openai.DefaultAioHttpClient() if settings.llm_http_client == "aiohttp" else None,
        )
        # Held for one attempt at a time, so a hung call keeps a slot no longer than its attempt's limit.
        share = settings.llm_slots_per_caller or -(-settings.llm_concurrency // 2)
        self.slots = FairSlots(settings.llm_concurrency, share)
        self.latency = LatencyWindow()
        self.per_token = LatencyWindow()
        self.breaker = Breaker(
            BreakerPolicy(
                consecutive_failures=settings.breaker_consecutive_failures,
                failure_ratio=settings.breaker_failure_ratio,
                cooldown_seconds=settings.breaker_cooldown_seconds,
            ),
            on_change=self._changed,
        )
        self._listeners = listeners

    def attempt_end(
        self, attempt: int, last: bool, started: float, until: float, max_tokens: int
    ) -> tuple[float, bool]:
        """When attempt `attempt` (0 first), started at `started` and asking for up to `max_tokens`, is
        given up (never after `until`); and whether a timeout then is the backend's fault: it was given
        what the backend's own record allows a call of that length (or there is no record yet), rather
        than cut short by the caller's budget."""
        p99 = self.latency.quantile(0.99)
        if p99 is None:
            return (until if last else started + (until - started) / 2), True
        expected = max(p99, (self.per_token.quantile(0.99) or 0.0) * max_tokens)
        allowed = max(MIN_ATTEMPT_SECONDS, ATTEMPT_P99_MULTIPLE * expected) * 2.0**attempt
        return min(until, started + allowed), started + allowed <= until

    def observe(self, seconds: float, reply: Reply) -> None:
        """A successful attempt's time, whole and per token written: a call asking for a long answer is
        then given the time the backend's rate says it needs, not the time short calls take."""
        self.latency.observe(seconds)
        written = reply.usage[1] if reply.usage else 0
        if written >= RATE_FROM_TOKENS:
            self.per_token.observe(seconds / written)

    def _changed(self, state: State) -> None:
        name = self.name or "default"
        log.warning("LLM backend %r: circuit breaker %s", name, state.value)
        trace.get_current_span().add_event(
            attributes.BREAKER, {attributes.BACKEND: name, attributes.BREAKER_STATE: state.value}
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
