"""One request of a load run, as measured. Times are seconds from the start of the run."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

OK = "OK"
# Not sent: the in-flight cap was reached at its scheduled time. Counted, never silently delayed.
DROPPED = "DROPPED"


@dataclass(frozen=True)
class Sample:
    index: int
    # When it was due. Latency counts from here, not from `sent`: a request the generator could not send
    # on time (a blocked event loop, a full connection) still owes the wait to the system under test.
    scheduled: float
    # None when dropped.
    sent: float | None
    done: float
    status: str
    detail: str = ""
    # Streams: first token, from `scheduled`.
    ttft: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    # Inside the warmup: run but left out of every statistic.
    warmup: bool = False
    # An answer given with degradations: the stages that degraded.
    degraded: tuple[str, ...] = ()

    @property
    def latency(self) -> float:
        return self.done - self.scheduled

    @property
    def ok(self) -> bool:
        return self.status == OK

    @property
    def lateness(self) -> float:
        """How long after its schedule it was sent."""
        return 0.0 if self.sent is None else max(self.sent - self.scheduled, 0.0)


def sample_json(sample: Sample, started_epoch: float) -> dict[str, Any]:
    """One request as `smoa load --samples` writes it: every field (times in seconds from the start of the
    run), and when it was due on the wall clock (Unix time), to line it up with what happened elsewhere."""
    return {
        **dataclasses.asdict(sample),
        "degraded": list(sample.degraded),
        "due_epoch": started_epoch + sample.scheduled,
    }
