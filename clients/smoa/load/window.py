"""Which requests of a run are warmup, and when the run is over. Warmup (seconds, requests, or both:
whichever ends later) comes first and is excluded from the statistics; the duration or request count
is then counted from the first measured request."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Window:
    # Exactly one of these bounds the measured part.
    duration: float | None = None
    requests: int | None = None
    warmup_seconds: float = 0.0
    warmup_requests: int = 0
    # When the first measured request was due, and how many measured requests were admitted.
    measured_from: float | None = field(default=None, init=False)
    measured: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if (self.duration is None) == (self.requests is None):
            raise ValueError("give exactly one of duration and requests")
        if self.duration is not None and not self.duration > 0:
            raise ValueError(f"duration: must be > 0, got {self.duration}")
        if self.requests is not None and self.requests < 1:
            raise ValueError(f"requests: must be >= 1, got {self.requests}")
        if self.warmup_seconds < 0 or self.warmup_requests < 0:
            raise ValueError("warmup: must be >= 0")

    def is_warmup(self, index: int, due: float) -> bool:
        return index < self.warmup_requests or due < self.warmup_seconds

    def admit(self, index: int, due: float) -> bool | None:
        """None when the run is over; otherwise whether request `index`, due at `due`, is warmup."""
        if self.is_warmup(index, due):
            return True
        if self.measured_from is None:
            self.measured_from = due
        if self.duration is not None and due >= self.measured_from + self.duration:
            return None
        if self.requests is not None and self.measured >= self.requests:
            return None
        self.measured += 1
        return False
