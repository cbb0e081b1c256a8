"""HDR latency histograms: percentiles to 3 significant digits, ghz-style buckets, merging."""

from __future__ import annotations

import pytest

from smoa.load.histogram import LatencyHistogram


def recorded(values: list[float]) -> LatencyHistogram:
    histogram = LatencyHistogram()
    for value in values:
        histogram.record(value)
    return histogram


def test_percentiles_min_max_mean() -> None:
    histogram = recorded([i / 1000 for i in range(1, 1001)])  # 1 ms .. 1000 ms
    assert histogram.count == 1000
    assert histogram.percentile(50) == pytest.approx(0.5, rel=1e-3)
    assert histogram.percentile(99) == pytest.approx(0.99, rel=1e-3)
    assert histogram.percentile(99.9) == pytest.approx(0.999, rel=1e-3)
    assert histogram.min == pytest.approx(0.001, rel=1e-3)
    assert histogram.max == pytest.approx(1.0, rel=1e-3)
    assert histogram.mean == pytest.approx(0.5005, rel=1e-3)


def test_buckets_span_fastest_to_slowest_and_hold_every_value() -> None:
    histogram = recorded([0.010] * 5 + [0.050] * 3 + [0.100] * 2)
    buckets = histogram.buckets(10)
    assert len(buckets) == 10
    assert sum(b.count for b in buckets) == 10
    assert buckets[0].count == 5 and buckets[-1].count == 2
    assert buckets[-1].upper_seconds == pytest.approx(0.100, rel=1e-3)
    assert [b.upper_seconds for b in buckets] == sorted(b.upper_seconds for b in buckets)


def test_one_value_and_no_values() -> None:
    assert sum(b.count for b in recorded([0.2]).buckets(4)) == 1
    empty = LatencyHistogram()
    assert (empty.count, empty.buckets(), empty.min, empty.mean) == (0, [], 0.0, 0.0)


def test_merge_and_encode() -> None:
    a, b = recorded([0.001] * 10), recorded([0.002] * 30)
    a.add(b)
    assert a.count == 40 and a.percentile(50) == pytest.approx(0.002, rel=1e-3)
    assert a.encode().startswith("HISTF")  # base64 of the compressed V2 cookie


def test_out_of_range_values_are_clamped_not_lost() -> None:
    histogram = recorded([0.0, 1e9])
    assert histogram.count == 2
