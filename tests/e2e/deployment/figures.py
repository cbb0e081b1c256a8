"""What one phase of the e2e measured through one door, from `smoa load --samples` lines: failed
requests, degraded answers, latency against the fault-free phase, and how long the fault took to be
routed around. Pure: no engine, no clock."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

Sample = dict[str, Any]  # one line of `smoa load --samples`


def read_samples(path: Path) -> list[Sample]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p% of the values at or below it."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def latency(sample: Sample) -> float:
    return float(sample["done"]) - float(sample["scheduled"])


def slow_limit(baseline_p99: float) -> float:
    """Slower than this is a request the fault reached: twice the fault-free p99, and at least half a
    second over it (a fast baseline's p99 doubles on a busy host's scheduling alone)."""
    return max(2 * baseline_p99, baseline_p99 + 0.5)


def affected(sample: Sample, baseline_p99: float) -> bool:
    return sample["status"] != "OK" or bool(sample["degraded"]) or latency(sample) > slow_limit(baseline_p99)


@dataclass(frozen=True)
class PhaseFigures:
    door: str
    fault: str
    requests: int
    failed: int
    failures: dict[str, int]
    degraded: int
    p50_ms: float
    p99_ms: float
    p99_vs_fault_free: float
    # Requests the fault reached (failed, degraded or slow), and when the last of them was due, from
    # the injection: the fault was routed around after that. None: nothing was reached.
    reached: int
    routed_around_after_s: float | None
    # The quiet tail: seconds at the end of the phase in which no request was reached.
    quiet_tail_s: float

    @property
    def degraded_share(self) -> float:
        return self.degraded / self.requests if self.requests else 0.0

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "degraded_share": self.degraded_share}


def figures(
    samples: Sequence[Sample],
    *,
    door: str,
    fault: str,
    baseline_p99: float,
    injected_epoch: float | None,
    ended_epoch: float,
) -> PhaseFigures:
    measured = [s for s in samples if not s.get("warmup")]
    latencies = [latency(s) for s in measured]
    failures: dict[str, int] = {}
    for s in measured:
        if s["status"] != "OK":
            failures[s["status"]] = failures.get(s["status"], 0) + 1
    hit = [s for s in measured if affected(s, baseline_p99)]
    last_due = max((float(s["due_epoch"]) for s in hit), default=None)
    start = (
        injected_epoch
        if injected_epoch is not None
        else min((float(s["due_epoch"]) for s in measured), default=0.0)
    )
    p99 = percentile(latencies, 99)
    return PhaseFigures(
        door=door,
        fault=fault,
        requests=len(measured),
        failed=sum(failures.values()),
        failures=failures,
        degraded=sum(1 for s in measured if s["status"] == "OK" and s["degraded"]),
        p50_ms=percentile(latencies, 50) * 1000,
        p99_ms=p99 * 1000,
        p99_vs_fault_free=p99 / baseline_p99 if baseline_p99 else math.nan,
        reached=len(hit),
        routed_around_after_s=None if last_due is None else max(0.0, last_due - start),
        quiet_tail_s=ended_epoch - (last_due if last_due is not None else start),
    )
