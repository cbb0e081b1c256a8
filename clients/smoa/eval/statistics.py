"""The statistics the report rests on, in plain Python (no numpy or scipy: the eval extra stays small and
the numbers are checked against scipy in the tests).

- `wilson`: the Wilson score interval of a proportion (accuracies): unlike the normal interval it stays
  inside [0, 1] and is not degenerate at 0 or n successes, which small runs hit often.
- `bootstrap_mean`: a percentile bootstrap interval of a mean (judge scores, tokens, latency), which
  assumes no distribution; seeded, so a report is reproducible.
- `mcnemar_exact`: are two systems' accuracies on the same items different? Only items where exactly one
  is right carry information; under the null each such item goes either way with probability 1/2.
- `wilcoxon_signed_rank`: are paired scores (two systems, same items) shifted? Exact distribution for
  small samples without ties, normal approximation (tie-corrected) otherwise; zero differences dropped.
- `paired_bootstrap`: an interval for the mean paired difference and for the ratio of totals (how much
  of B's tokens A spends), resampling items so the pairing is kept.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

Z_95 = 1.959963984540054
BOOTSTRAP_RESAMPLES = 2000
# Up to this many non-zero differences without ties, the Wilcoxon p-value is exact.
WILCOXON_EXACT_MAX_N = 50


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float


def wilson(successes: int, trials: int, z: float = Z_95) -> Interval:
    """Wilson score interval of successes/trials; (nan, nan, nan) for no trials."""
    if not 0 <= successes <= trials:
        raise ValueError(f"successes: must be in [0, {trials}], got {successes}")
    if trials == 0:
        return Interval(math.nan, math.nan, math.nan)
    p = successes / trials
    z2 = z * z
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = z / (1 + z2 / trials) * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half))


def mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values) if values else math.nan


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation between order statistics (numpy's default)."""
    if not 0 <= q <= 100:
        raise ValueError(f"q: must be in [0, 100], got {q}")
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def _percentile_interval(estimate: float, resampled: list[float], level: float) -> Interval:
    tail = (1 - level) / 2 * 100
    return Interval(estimate, percentile(resampled, tail), percentile(resampled, 100 - tail))


def bootstrap_mean(
    values: Sequence[float], *, resamples: int = BOOTSTRAP_RESAMPLES, level: float = 0.95, seed: int = 0
) -> Interval:
    """Percentile bootstrap interval of the mean; a single value gives a zero-width interval."""
    if not values:
        return Interval(math.nan, math.nan, math.nan)
    rng = random.Random(seed)
    n = len(values)
    means = [math.fsum(rng.choices(values, k=n)) / n for _ in range(resamples)]
    return _percentile_interval(mean(values), means, level)


def _binomial_cdf_half(k: int, n: int) -> float:
    """P(X <= k) for X ~ Binomial(n, 1/2), exactly."""
    return float(sum(math.comb(n, i) for i in range(k + 1)) / 2**n)


@dataclass(frozen=True)
class McNemar:
    # Items only the first system got right, and only the second.
    only_first: int
    only_second: int
    p_value: float


def mcnemar_exact(first: Sequence[bool], second: Sequence[bool]) -> McNemar:
    """Exact (binomial) McNemar test on paired right/wrong outcomes; two-sided."""
    if len(first) != len(second):
        raise ValueError(f"second: must pair with first ({len(first)} items), got {len(second)}")
    b = sum(1 for x, y in zip(first, second, strict=True) if x and not y)
    c = sum(1 for x, y in zip(first, second, strict=True) if y and not x)
    p = 1.0 if b + c == 0 else min(1.0, 2 * _binomial_cdf_half(min(b, c), b + c))
    return McNemar(b, c, p)


@dataclass(frozen=True)
class Wilcoxon:
    # Pairs with a non-zero difference (the ones the test uses).
    n: int
    # Sum of the ranks of the positive differences (first > second).
    statistic: float
    p_value: float
    exact: bool


def _ranks(values: Sequence[float]) -> tuple[list[float], list[int]]:
    """Average ranks (1-based) of values, and the sizes of the groups of ties."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    ties: list[int] = []
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for j in range(start, end + 1):
            ranks[order[j]] = (start + end) / 2 + 1
        ties.append(end - start + 1)
        start = end + 1
    return ranks, ties


def _exact_signed_rank_p(statistic: float, n: int) -> float:
    """Two-sided exact p-value of the signed-rank sum W+ = statistic for n untied ranks 1..n."""
    total = n * (n + 1) // 2
    # counts[s]: how many of the 2**n sign assignments give W+ = s.
    counts = [1] + [0] * total
    for r in range(1, n + 1):
        for s in range(total, r - 1, -1):
            counts[s] += counts[s - r]
    w = round(statistic)
    low = min(w, total - w)
    return min(1.0, float(2 * sum(counts[: low + 1]) / 2**n))


def wilcoxon_signed_rank(first: Sequence[float], second: Sequence[float]) -> Wilcoxon:
    """Two-sided Wilcoxon signed-rank test of first - second (zero differences dropped, as scipy's
    default `zero_method="wilcox"`); p = 1 when every difference is zero."""
    if len(first) != len(second):
        raise ValueError(f"second: must pair with first ({len(first)} items), got {len(second)}")
    diffs = [x - y for x, y in zip(first, second, strict=True) if x != y]
    n = len(diffs)
    if n == 0:
        return Wilcoxon(0, 0.0, 1.0, True)
    ranks, ties = _ranks([abs(d) for d in diffs])
    plus = math.fsum(r for r, d in zip(ranks, diffs, strict=True) if d > 0)
    if n <= WILCOXON_EXACT_MAX_N and all(t == 1 for t in ties):
        return Wilcoxon(n, plus, _exact_signed_rank_p(plus, n), True)
    expected = n * (n + 1) / 4
    variance = n * (n + 1) * (2 * n + 1) / 24 - sum(t**3 - t for t in ties) / 48
    if variance <= 0:
        return Wilcoxon(n, plus, 1.0, False)
    z = (plus - expected) / math.sqrt(variance)
    return Wilcoxon(n, plus, min(1.0, math.erfc(abs(z) / math.sqrt(2))), False)


@dataclass(frozen=True)
class PairedBootstrap:
    # Mean of first - second, with its interval.
    mean_difference: Interval
    # sum(first) / sum(second), with its interval (nan where the second sums to 0).
    ratio: Interval


def paired_bootstrap(
    first: Sequence[float],
    second: Sequence[float],
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    level: float = 0.95,
    seed: int = 0,
) -> PairedBootstrap:
    """Resamples item indices (keeping each item's pair together) for the mean difference and the ratio
    of totals."""
    if len(first) != len(second):
        raise ValueError(f"second: must pair with first ({len(first)} items), got {len(second)}")
    n = len(first)
    if n == 0:
        nan = Interval(math.nan, math.nan, math.nan)
        return PairedBootstrap(nan, nan)

    def ratio_of(indices: Sequence[int]) -> float:
        below = math.fsum(second[i] for i in indices)
        return math.fsum(first[i] for i in indices) / below if below else math.nan

    def difference_of(indices: Sequence[int]) -> float:
        return math.fsum(first[i] - second[i] for i in indices) / len(indices)

    rng = random.Random(seed)
    everything = range(n)
    samples = [rng.choices(everything, k=n) for _ in range(resamples)]

    def interval(statistic: Callable[[Sequence[int]], float]) -> Interval:
        estimate = statistic(everything)
        found = [v for v in (statistic(s) for s in samples) if not math.isnan(v)]
        if math.isnan(estimate) or not found:
            return Interval(estimate, math.nan, math.nan)
        return _percentile_interval(estimate, found, level)

    return PairedBootstrap(interval(difference_of), interval(ratio_of))
