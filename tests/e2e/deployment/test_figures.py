"""The e2e's figures from `smoa load --samples` lines: failures counted by status, degraded answers, and
the fault routed around after the last request it reached."""

from __future__ import annotations

import math

import pytest

from tests.e2e.deployment.figures import Sample, figures, percentile

T0 = 1_800_000_000.0  # the run's start on the wall clock


def sample(due: float, took: float, status: str = "OK", degraded: tuple[str, ...] = ()) -> Sample:
    return {"scheduled": due, "done": due + took, "status": status, "degraded": list(degraded),
            "due_epoch": T0 + due, "warmup": False}  # fmt: skip


def test_percentile_is_the_nearest_rank() -> None:
    values = [0.1 * i for i in range(1, 101)]
    assert percentile(values, 50) == pytest.approx(5.0)
    assert percentile(values, 99) == pytest.approx(9.9)
    assert percentile([3.0], 99) == 3.0
    assert math.isnan(percentile([], 50))


def test_a_fault_free_phase_reaches_nothing() -> None:
    samples = [sample(i * 0.25, 0.3) for i in range(40)]
    found = figures(
        samples, door="grpc", fault="none", baseline_p99=0.3, injected_epoch=None, ended_epoch=T0 + 10
    )
    assert (found.requests, found.failed, found.degraded, found.reached) == (40, 0, 0, 0)
    assert found.routed_around_after_s is None and found.quiet_tail_s == pytest.approx(10.0)
    assert found.p99_vs_fault_free == pytest.approx(1.0)


def test_the_fault_is_routed_around_after_the_last_request_it_reached() -> None:
    samples = [sample(i * 0.25, 0.3) for i in range(120)]  # 30 s
    samples[24] = sample(6.0, 0.3, degraded=("proposer",))  # 1 s after the fault at 5 s
    samples[30] = sample(7.5, 2.0)  # slow: over twice the fault-free p99 and half a second over it
    samples[32] = sample(8.0, 0.5, status="UNAVAILABLE")
    samples[33] = sample(8.25, 0.9)  # over the limit: max(2 x 0.3, 0.3 + 0.5) = 0.8 s
    samples[34] = sample(8.5, 0.7)  # within it
    found = figures(
        samples, door="http", fault="kill", baseline_p99=0.3, injected_epoch=T0 + 5, ended_epoch=T0 + 30
    )
    assert (found.failed, found.failures, found.degraded, found.reached) == (1, {"UNAVAILABLE": 1}, 1, 4)
    assert found.routed_around_after_s == pytest.approx(3.25)
    assert found.quiet_tail_s == pytest.approx(21.75)
    assert found.degraded_share == pytest.approx(1 / 120)


def test_warmup_requests_are_left_out() -> None:
    samples = [{**sample(0.0, 9.0, status="DEADLINE_EXCEEDED"), "warmup": True}, sample(1.0, 0.2)]
    found = figures(
        samples, door="grpc", fault="none", baseline_p99=0.2, injected_epoch=None, ended_epoch=T0 + 2
    )
    assert (found.requests, found.failed) == (1, 0)
