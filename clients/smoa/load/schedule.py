"""Open-loop arrival schedules: the time each request is due, fixed by the rate and a seed before the run
starts, never by how fast the server answers (that is what makes the loop open).

A schedule is a renewal process of rate 1 in "operational time" mapped onto wall time through the
integrated rate Λ(t) (time rescaling). With a constant rate that is just a division; with a ramp-up the
rate rises linearly from 0 to `rate` over `ramp_up` seconds, Λ(t) = rate·t²/(2·ramp_up), and the same
gaps stretch early and tighten as the rate grows, so Poisson stays Poisson, only inhomogeneous.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

KINDS = ("poisson", "gamma", "constant")


@dataclass(frozen=True)
class Arrivals:
    rate: float
    # "poisson": exponential gaps; "gamma": gamma gaps whose coefficient of variation is `burstiness`
    # (1 is Poisson, > 1 burstier, < 1 more regular); "constant": equal gaps.
    kind: str = "poisson"
    burstiness: float = 1.0
    ramp_up: float = 0.0

    def __post_init__(self) -> None:
        if not self.rate > 0:
            raise ValueError(f"rate: must be > 0, got {self.rate}")
        if self.kind not in KINDS:
            raise ValueError(f"arrival: must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if not self.burstiness > 0:
            raise ValueError(f"burstiness: must be > 0, got {self.burstiness}")
        if self.ramp_up < 0:
            raise ValueError(f"ramp_up: must be >= 0, got {self.ramp_up}")


def unit_gaps(arrivals: Arrivals, rng: random.Random) -> Iterator[float]:
    """Gaps of mean 1 (a rate-1 process)."""
    if arrivals.kind == "constant":
        return itertools.repeat(1.0)
    if arrivals.kind == "poisson":
        return (rng.expovariate(1.0) for _ in itertools.count())
    # Gamma(shape, scale) has mean shape·scale and CV 1/√shape.
    shape = 1.0 / arrivals.burstiness**2
    return (rng.gammavariate(shape, 1.0 / shape) for _ in itertools.count())


def wall_time(operational: float, rate: float, ramp_up: float) -> float:
    """Λ⁻¹: the wall time by which `operational` requests are expected."""
    ramp_area = rate * ramp_up / 2
    if operational <= ramp_area:
        return math.sqrt(2 * ramp_up * operational / rate)
    return ramp_up + (operational - ramp_area) / rate


def arrival_times(arrivals: Arrivals, seed: int = 0) -> Iterator[float]:
    """Seconds from the start at which each request is due, increasing, without end (the caller stops
    at its duration or request count)."""
    rng = random.Random(seed)
    operational = 0.0
    for gap in unit_gaps(arrivals, rng):
        operational += gap
        yield wall_time(operational, arrivals.rate, arrivals.ramp_up)
