"""The statistics, against scipy / numpy (used here only) and hand-computed values."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from scipy import stats  # type: ignore[import-untyped]  # tests only: the cross-check

from smoa.eval import statistics as st


@pytest.mark.parametrize(("k", "n"), [(0, 10), (3, 10), (10, 10), (27, 30), (1, 1), (50, 100)])
def test_wilson_matches_scipy(k: int, n: int) -> None:
    expected = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    found = st.wilson(k, n)
    assert found.estimate == pytest.approx(k / n)
    assert (found.low, found.high) == pytest.approx((expected.low, expected.high), abs=1e-9)


def test_wilson_edges() -> None:
    assert math.isnan(st.wilson(0, 0).estimate)
    with pytest.raises(ValueError, match="successes"):
        st.wilson(5, 4)


@pytest.mark.parametrize(("b", "c"), [(0, 0), (1, 0), (5, 1), (3, 3), (12, 4), (0, 9)])
def test_mcnemar_exact_is_a_binomial_test_on_the_discordant_pairs(b: int, c: int) -> None:
    first = [True] * b + [False] * c + [True] * 4 + [False] * 2
    second = [False] * b + [True] * c + [True] * 4 + [False] * 2
    result = st.mcnemar_exact(first, second)
    assert (result.only_first, result.only_second) == (b, c)
    expected = 1.0 if b + c == 0 else stats.binomtest(b, b + c, 0.5).pvalue
    assert result.p_value == pytest.approx(expected, abs=1e-12)


def test_wilcoxon_exact_matches_scipy_without_ties() -> None:
    rng = random.Random(1)
    for n in (1, 5, 12, 30):
        x = [rng.gauss(0, 1) for _ in range(n)]
        y = [v + rng.gauss(0.3, 1) for v in x]
        found = st.wilcoxon_signed_rank(x, y)
        expected = stats.wilcoxon(x, y, method="exact")
        assert found.exact and found.n == n
        assert found.p_value == pytest.approx(expected.pvalue, rel=1e-9)
        assert found.statistic == pytest.approx(sum(r for r, d in zip(
            stats.rankdata([abs(a - b) for a, b in zip(x, y, strict=True)]),
            [a - b for a, b in zip(x, y, strict=True)], strict=True) if d > 0))  # fmt: skip


def test_wilcoxon_with_ties_and_zeros_matches_scipys_normal_approximation() -> None:
    x = [7, 8, 6, 9, 7, 8, 5, 7, 8, 9, 6, 7]
    y = [6, 8, 5, 7, 7, 6, 5, 6, 7, 7, 6, 5]
    found = st.wilcoxon_signed_rank(x, y)
    expected = stats.wilcoxon(x, y, zero_method="wilcox", correction=False, method="approx")
    assert not found.exact and found.n == 8
    assert found.p_value == pytest.approx(expected.pvalue, rel=1e-9)


def test_wilcoxon_edges() -> None:
    assert st.wilcoxon_signed_rank([1, 2], [1, 2]).p_value == 1.0
    with pytest.raises(ValueError, match="pair"):
        st.wilcoxon_signed_rank([1], [1, 2])


@pytest.mark.parametrize("q", [0, 5, 50, 95, 100])
def test_percentile_matches_numpy(q: float) -> None:
    values = [3.0, 1.0, 4.0, 1.5, 9.0, 2.6, 5.0]
    assert st.percentile(values, q) == pytest.approx(float(np.percentile(values, q)))


def test_bootstrap_mean_interval() -> None:
    rng = random.Random(0)
    values = [rng.gauss(10, 2) for _ in range(200)]
    interval = st.bootstrap_mean(values, seed=3)
    assert interval.estimate == pytest.approx(float(np.mean(values)))
    # About the normal-theory interval for a sample this size: mean ± 1.96 s/√n.
    half = 1.96 * float(np.std(values, ddof=1)) / math.sqrt(len(values))
    assert interval.low == pytest.approx(interval.estimate - half, abs=0.1)
    assert interval.high == pytest.approx(interval.estimate + half, abs=0.1)
    assert st.bootstrap_mean(values, seed=3) == interval  # seeded: reproducible
    assert st.bootstrap_mean([4.0, 4.0, 4.0]) == st.Interval(4.0, 4.0, 4.0)
    assert math.isnan(st.bootstrap_mean([]).estimate)


def test_paired_bootstrap_difference_and_ratio() -> None:
    first = [60.0, 40.0, 55.0, 45.0, 50.0, 62.0, 38.0, 50.0]
    second = [100.0, 80.0, 90.0, 110.0, 95.0, 105.0, 85.0, 100.0]
    result = st.paired_bootstrap(first, second, seed=1)
    assert result.ratio.estimate == pytest.approx(sum(first) / sum(second))
    assert result.ratio.low < result.ratio.estimate < result.ratio.high < 1
    assert result.mean_difference.estimate == pytest.approx(float(np.mean(np.subtract(first, second))))
    assert result.mean_difference.high < 0
    same = st.paired_bootstrap([5.0, 7.0], [5.0, 7.0])
    assert same.mean_difference == st.Interval(0.0, 0.0, 0.0) and same.ratio == st.Interval(1.0, 1.0, 1.0)
    assert math.isnan(st.paired_bootstrap([1.0], [0.0]).ratio.estimate)
