"""Deadlines across hops. grpc Python does not pass an incoming deadline on, so every outgoing call (RPC
or LLM request) takes ``min(time remaining for the caller, the call's own budget)``."""

from __future__ import annotations

import time


class Deadline:
    """The absolute time by which the current request must be answered (None: the caller set none)."""

    def __init__(self, remaining_seconds: float | None):
        self._at = None if remaining_seconds is None else time.monotonic() + remaining_seconds

    def remaining(self) -> float | None:
        return None if self._at is None else max(0.0, self._at - time.monotonic())

    def timeout(self, budget: float) -> float:
        """Seconds an outgoing call may take: its budget, cut to what the caller has left."""
        left = self.remaining()
        return budget if left is None else min(left, budget)

    def expired(self) -> bool:
        left = self.remaining()
        return left is not None and left <= 0.0
