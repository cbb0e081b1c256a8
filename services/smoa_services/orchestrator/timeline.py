"""How a generation spends its time. Every call before the aggregator leaves it a reserve, so that even a
call that hangs until its budget runs out leaves time to answer; another layer starts only when one fits
before the reserve; the aggregator gets what is left."""

from __future__ import annotations

from smoa_services.timing.deadline import Deadline
from smoa_services.timing.latency import LatencyWindow

# Kept for the aggregator, as a share of the generation's time, until its own p95 is known.
AGGREGATOR_SHARE = 0.2
# Once known: its p95 with this much headroom, and never less than this share (a fast aggregator can
# still fail and need a retry, or the machine be busy).
AGGREGATOR_HEADROOM = 1.5
MIN_AGGREGATOR_SHARE = 0.1


class Timeline:
    def __init__(self, deadline: Deadline, aggregator: LatencyWindow):
        self.deadline = deadline
        self.aggregator = aggregator
        self.total = deadline.remaining()

    def reserve(self) -> float:
        """Seconds kept for the aggregator: never more than half of what is left."""
        left = self.deadline.remaining()
        if left is None:
            return 0.0
        total = self.total or left
        observed = self.aggregator.quantile(0.95)
        if observed is None:
            wanted = AGGREGATOR_SHARE * total
        else:
            wanted = max(AGGREGATOR_HEADROOM * observed, MIN_AGGREGATOR_SHARE * total)
        return min(wanted, left / 2)

    def call_timeout(self, budget: float) -> float:
        """A call before the aggregator: its budget, within the time left before the reserve."""
        return self.deadline.timeout(budget, self.reserve())

    def final_timeout(self, budget: float) -> float:
        """The aggregator (or SINGLE's one call): its budget, within all the time left."""
        return self.deadline.timeout(budget)

    def fits(self, seconds: float) -> bool:
        """Whether work that takes about `seconds` can still run before the reserve."""
        left = self.deadline.remaining()
        return left is None or left - self.reserve() >= seconds

    def left(self) -> float | None:
        return self.deadline.remaining()
