"""A circuit breaker per LLM backend, in the manner of LiteLLM's cooldowns: after repeated failures the
backend is left alone for a cool-down and calls fail at once, instead of queueing into a dead endpoint
until their budgets run out.

It opens on either of two signs: `consecutive_failures` failures in a row (a dead backend, found fast even
at low traffic), or a failure share of at least `failure_ratio` over the last `window_seconds` with at least
`min_calls` calls (a backend failing most of the time). Both are set so that ordinary weather does not open
it: at 17% failures (10% 5xx, 5% hangs, 2% garbage), ten in a row happen about once in 50 million calls.

It measures the backend, not its callers. Calls are made for end callers (caller.py); a failure counts only
while no other caller's latest call, within the window, was served: then the backend works, and what fails
is this caller's own (a prompt that hangs the model, an answer too long for its budget), which must not
take the backend from everyone. A backend that fails everyone is found as fast as before: each other
caller's next failure ends the exception for the rest. With one caller (no authentication: everyone is
"") nothing changes.

After the cool-down it is half open: calls go through, the first success closes it, the first failure
opens it again for twice as long (capped). Time is passed in, so the policy is plain and testable."""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

# Callers whose latest outcome is remembered: a bound, since at a peer the names come from a header.
MAX_CALLERS = 1024


class State(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class BreakerPolicy:
    consecutive_failures: int = 10
    failure_ratio: float = 0.5
    min_calls: int = 20
    window_seconds: float = 10.0
    cooldown_seconds: float = 5.0
    max_cooldown_seconds: float = 60.0


class Breaker:
    def __init__(self, policy: BreakerPolicy, on_change: Callable[[State], None] | None = None):
        self.policy = policy
        self.state = State.CLOSED
        self.open_until = 0.0
        self.on_change = on_change
        self._outcomes: deque[tuple[float, bool]] = deque()
        self._in_a_row = 0
        # Openings since the breaker was last closed: each one doubles the cool-down.
        self._openings = 0
        # Each caller's latest outcome: (when, served).
        self._latest: dict[str, tuple[float, bool]] = {}

    def wait(self, now: float) -> float | None:
        """None when a call may go ahead; else the seconds until the backend may be tried again."""
        self.tick(now)
        return self.open_until - now if self.state is State.OPEN else None

    def tick(self, now: float) -> None:
        if self.state is State.OPEN and now >= self.open_until:
            self._become(State.HALF_OPEN)

    def succeeded(self, now: float, caller: str = "") -> None:
        self.tick(now)
        if self.state is State.OPEN:
            return  # a call let through before it opened: says nothing about the backend now
        self._note(caller, now, served=True)
        self._in_a_row = 0
        self._remember(now, ok=True)
        if self.state is State.HALF_OPEN:
            self._openings = 0
            self._outcomes.clear()
            self._become(State.CLOSED)

    def failed(self, now: float, caller: str = "") -> None:
        self.tick(now)
        if self.state is State.OPEN:
            return
        self._note(caller, now, served=False)
        if self.state is State.CLOSED and self._another_served(caller, now):
            return
        self._in_a_row += 1
        self._remember(now, ok=False)
        if self.state is State.HALF_OPEN or self._tripped():
            self._open(now)

    def _note(self, caller: str, now: float, served: bool) -> None:
        self._latest.pop(caller, None)
        self._latest[caller] = (now, served)
        while len(self._latest) > MAX_CALLERS:
            del self._latest[next(iter(self._latest))]  # the longest quiet

    def _another_served(self, caller: str, now: float) -> bool:
        since = now - self.policy.window_seconds
        return any(
            served and when >= since for other, (when, served) in self._latest.items() if other != caller
        )

    def _remember(self, now: float, ok: bool) -> None:
        self._outcomes.append((now, ok))
        while self._outcomes and self._outcomes[0][0] < now - self.policy.window_seconds:
            self._outcomes.popleft()

    def _tripped(self) -> bool:
        if self._in_a_row >= self.policy.consecutive_failures:
            return True
        calls = len(self._outcomes)
        failures = sum(1 for _, ok in self._outcomes if not ok)
        return calls >= self.policy.min_calls and failures >= self.policy.failure_ratio * calls

    def _open(self, now: float) -> None:
        cooldown = min(self.policy.max_cooldown_seconds, self.policy.cooldown_seconds * 2**self._openings)
        self._openings += 1
        self.open_until = now + cooldown
        self._in_a_row = 0
        self._outcomes.clear()
        self._become(State.OPEN)

    def _become(self, state: State) -> None:
        if state is not self.state:
            self.state = state
            if self.on_change is not None:
                self.on_change(state)
