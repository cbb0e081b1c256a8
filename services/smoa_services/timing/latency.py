"""Recent latencies of one kind of call, for delays that follow what is normal for it: when to hedge (the
observed p95), when a call counts as overdue."""

from __future__ import annotations

import math
from collections import deque

# A quantile read from fewer observations than this is noise; callers fall back to their default.
MIN_OBSERVATIONS = 10


class LatencyWindow:
    def __init__(self, size: int = 256):
        self._seconds: deque[float] = deque(maxlen=size)

    def observe(self, seconds: float) -> None:
        self._seconds.append(seconds)

    def __len__(self) -> int:
        return len(self._seconds)

    def quantile(self, q: float) -> float | None:
        """The q-quantile (nearest rank) of the window, or None while it holds too few observations."""
        if len(self._seconds) < MIN_OBSERVATIONS:
            return None
        ordered = sorted(self._seconds)
        return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def hedge_delay(setting: str, window: LatencyWindow) -> float | None:
    """When to hedge a call, from a setting checked by config.valid_hedge: "off" never, "p95" at the
    observed 95th percentile of its kind of call (not before enough calls were seen), else that many
    seconds."""
    if setting == "off":
        return None
    if setting == "p95":
        return window.quantile(0.95)
    return float(setting)
