"""Arrival schedules: the rate and burstiness asked for, reproducible by seed, and a linear ramp."""

from __future__ import annotations

import itertools
import statistics

import pytest

from smoa.load.schedule import Arrivals, arrival_times, wall_time


def first(arrivals: Arrivals, how_many: int, seed: int = 7) -> list[float]:
    return list(itertools.islice(arrival_times(arrivals, seed), how_many))


def gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in zip([0.0, *times], times, strict=False)]


def test_poisson_mean_rate_and_exponential_gaps() -> None:
    times = first(Arrivals(rate=50.0), 20_000)
    assert len(times) / times[-1] == pytest.approx(50.0, rel=0.03)
    spread = gaps(times)
    # Exponential: coefficient of variation 1.
    assert statistics.stdev(spread) / statistics.mean(spread) == pytest.approx(1.0, abs=0.05)
    assert times == sorted(times)


def test_same_seed_same_schedule_other_seed_other_schedule() -> None:
    arrivals = Arrivals(rate=10.0)
    assert first(arrivals, 100, seed=1) == first(arrivals, 100, seed=1)
    assert first(arrivals, 100, seed=1) != first(arrivals, 100, seed=2)


@pytest.mark.parametrize("cv", [0.5, 2.0, 4.0])
def test_gamma_keeps_the_rate_and_has_the_burstiness_asked(cv: float) -> None:
    times = first(Arrivals(rate=20.0, kind="gamma", burstiness=cv), 40_000)
    assert len(times) / times[-1] == pytest.approx(20.0, rel=0.05)
    spread = gaps(times)
    assert statistics.stdev(spread) / statistics.mean(spread) == pytest.approx(cv, rel=0.1)


def test_constant_gaps() -> None:
    assert first(Arrivals(rate=4.0, kind="constant"), 4) == [0.25, 0.5, 0.75, 1.0]


def test_ramp_up_rises_linearly_then_holds_the_rate() -> None:
    ramp = 10.0
    times = first(Arrivals(rate=40.0, kind="constant", ramp_up=ramp), 2_000)
    # During the ramp the count by time t is rate·t²/(2·ramp): a quarter of the full-rate count by half.
    by_half = sum(t <= ramp / 2 for t in times)
    by_end = sum(t <= ramp for t in times)
    assert by_half == pytest.approx(40 * 5**2 / (2 * ramp), abs=1)
    assert by_end == pytest.approx(40 * ramp / 2, abs=1)
    after = [t for t in times if ramp < t <= ramp + 10]
    assert len(after) == pytest.approx(400, abs=1)


def test_ramped_poisson_count_follows_the_integrated_rate() -> None:
    times = first(Arrivals(rate=100.0, ramp_up=20.0), 10_000, seed=3)
    assert sum(t <= 20.0 for t in times) == pytest.approx(100 * 20 / 2, rel=0.05)


def test_wall_time_inverts_the_integrated_rate() -> None:
    assert wall_time(0.0, 10.0, 4.0) == 0.0
    assert wall_time(20.0, 10.0, 4.0) == pytest.approx(4.0)  # the ramp's area: 10·4/2
    assert wall_time(30.0, 10.0, 4.0) == pytest.approx(5.0)
    assert wall_time(30.0, 10.0, 0.0) == pytest.approx(3.0)


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"rate": 0.0}, "rate"),
        ({"rate": 1.0, "kind": "uniform"}, "arrival"),
        ({"rate": 1.0, "burstiness": 0.0}, "burstiness"),
        ({"rate": 1.0, "ramp_up": -1.0}, "ramp_up"),
    ],
)
def test_bad_schedules_are_refused_by_name(fields: dict[str, object], named: str) -> None:
    with pytest.raises(ValueError, match=f"^{named}"):
        Arrivals(**fields)  # type: ignore[arg-type]
