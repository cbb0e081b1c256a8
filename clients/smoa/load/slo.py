"""Service-level objectives and goodput: the share of requests that succeeded and met every objective
given. A dropped or failed request never meets them, however fast it was."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from smoa.load.sample import Sample


@dataclass(frozen=True)
class Slo:
    latency_ms: float | None = None
    ttft_ms: float | None = None

    @property
    def given(self) -> bool:
        return self.latency_ms is not None or self.ttft_ms is not None

    def met_by(self, sample: Sample) -> bool:
        if not sample.ok:
            return False
        if self.latency_ms is not None and sample.latency * 1000 > self.latency_ms:
            return False
        # A stream without a token cannot meet a time-to-first-token objective.
        return self.ttft_ms is None or (sample.ttft is not None and sample.ttft * 1000 <= self.ttft_ms)

    def describe(self) -> str:
        parts = []
        if self.latency_ms is not None:
            parts.append(f"latency <= {self.latency_ms:g} ms")
        if self.ttft_ms is not None:
            parts.append(f"TTFT <= {self.ttft_ms:g} ms")
        return " and ".join(parts) or "success"


@dataclass(frozen=True)
class Goodput:
    met: int
    total: int
    seconds: float

    @property
    def share(self) -> float:
        return self.met / self.total if self.total else 0.0

    @property
    def per_second(self) -> float:
        return self.met / self.seconds if self.seconds > 0 else 0.0


def goodput(samples: Iterable[Sample], slo: Slo, seconds: float) -> Goodput:
    measured = [s for s in samples if not s.warmup]
    return Goodput(sum(slo.met_by(s) for s in measured), len(measured), seconds)
