"""Deadlines across hops. grpc Python does not pass an incoming deadline on, so every outgoing call (RPC
or LLM request) takes its own budget, cut to the time the caller has left, minus a margin in which the
caller can still answer when the call fails (with a fallback, or at least a clear status rather than
DEADLINE_EXCEEDED). A server's drain lowers every deadline to the end of its grace period (`ceiling`)."""

from __future__ import annotations

import time
from collections.abc import Callable

# The margin left for answering after an outgoing call: a tenth of the time left, at most this.
MAX_ANSWER_MARGIN_SECONDS = 0.5


def no_ceiling() -> float | None:
    return None


class Deadline:
    """The absolute time by which the current request must be answered (None: the caller set none)."""

    def __init__(self, remaining_seconds: float | None, ceiling: Callable[[], float | None] = no_ceiling):
        self._at = None if remaining_seconds is None else time.monotonic() + remaining_seconds
        # A monotonic time the deadline may not pass, read at every use (it appears when a drain starts).
        self._ceiling = ceiling

    def at(self) -> float | None:
        ceiling = self._ceiling()
        if ceiling is None or self._at is None:
            return self._at if ceiling is None else ceiling
        return min(self._at, ceiling)

    def remaining(self) -> float | None:
        at = self.at()
        return None if at is None else max(0.0, at - time.monotonic())

    def timeout(self, budget: float, reserve: float = 0.0) -> float:
        """Seconds an outgoing call may take: its budget, cut to what is left after `reserve` (time the
        stages after it need) and the answer margin."""
        left = self.remaining()
        if left is None:
            return budget
        left -= reserve
        return max(0.0, min(budget, left - min(MAX_ANSWER_MARGIN_SECONDS, 0.1 * left)))
