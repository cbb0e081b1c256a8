"""A run's statistics from its samples, warmup left out: counts per status, errors by gRPC code with
their messages, HDR latency histograms (end to end, and time to first token for streams), token
throughput from the responses' own cost, lateness and goodput."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from smoa.load.histogram import LatencyHistogram
from smoa.load.sample import DROPPED, Sample
from smoa.load.slo import Goodput, Slo, goodput

# A send later than this after its schedule is reported as late (the generator could not keep up).
LATE_SECONDS = 0.010


@dataclass(frozen=True)
class Summary:
    count: int
    # From the first measured request's schedule to the last one's completion.
    seconds: float
    statuses: Counter[str]
    # (gRPC code, details) -> count, for everything that was sent and did not succeed.
    errors: Counter[tuple[str, str]]
    # Every request that was sent, whatever its status, as ghz counts it.
    latency: LatencyHistogram
    ttft: LatencyHistogram
    input_tokens: int
    output_tokens: int
    late: int
    max_lateness: float
    goodput: Goodput
    slo: Slo
    # Successful answers that were degraded, and per stage how many answers it degraded.
    degraded: int = 0
    degraded_stages: Counter[str] | None = None

    @property
    def sent(self) -> int:
        return self.count - self.statuses[DROPPED]

    @property
    def rps(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else 0.0

    @property
    def output_tokens_per_second(self) -> float:
        return self.output_tokens / self.seconds if self.seconds > 0 else 0.0

    @property
    def input_tokens_per_second(self) -> float:
        return self.input_tokens / self.seconds if self.seconds > 0 else 0.0


NO_SLO = Slo()


def summarize(samples: Sequence[Sample], slo: Slo = NO_SLO) -> Summary:
    measured = [s for s in samples if not s.warmup]
    first = min((s.scheduled for s in measured), default=0.0)
    seconds = max((s.done for s in measured), default=0.0) - first
    latency, ttft = LatencyHistogram(), LatencyHistogram()
    errors: Counter[tuple[str, str]] = Counter()
    for s in measured:
        if s.status == DROPPED:
            continue
        latency.record(s.latency)
        if s.ttft is not None:
            ttft.record(s.ttft)
        if not s.ok:
            errors[(s.status, s.detail)] += 1
    late = [s.lateness for s in measured if s.lateness > LATE_SECONDS]
    return Summary(
        count=len(measured),
        seconds=seconds,
        statuses=Counter(s.status for s in measured),
        errors=errors,
        latency=latency,
        ttft=ttft,
        input_tokens=sum(s.input_tokens for s in measured),
        output_tokens=sum(s.output_tokens for s in measured),
        late=len(late),
        max_lateness=max((s.lateness for s in measured), default=0.0),
        goodput=goodput(measured, slo, seconds),
        slo=slo,
        degraded=sum(1 for s in measured if s.ok and s.degraded),
        degraded_stages=Counter(stage for s in measured if s.ok for stage in s.degraded),
    )
