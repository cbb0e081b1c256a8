"""Kendall's coefficient of concordance W, tie-corrected, over the candidates every ballot saw."""

from collections import Counter
from collections.abc import Sequence
from fractions import Fraction

from tests.core.reference.ballots import BallotData


def kendall_w(ballots: Sequence[BallotData], n: int) -> float | None:
    if len(ballots) < 2:
        return None
    common = sorted(frozenset(range(n)).intersection(*(b.seen for b in ballots)))
    k = len(common)
    if k < 2:
        return None
    m = len(ballots)
    # Exact arithmetic: ranks are halves, so S and the tie correction are exact and only the final
    # division rounds, leaving no doubt about a zero denominator.
    totals = {c: Fraction(0) for c in common}
    tie_correction = 0
    for b in ballots:
        for c, r in b.averaged_ranks(common).items():
            totals[c] += Fraction(r)
        tie_sizes = Counter(b.merit(c) for c in common).values()
        tie_correction += sum(t**3 - t for t in tie_sizes)
    mean_total = sum(totals.values()) / k
    s = sum((t - mean_total) ** 2 for t in totals.values())
    denominator = m * m * (k**3 - k) - m * tie_correction
    if denominator == 0:
        return None
    return float(12 * s / denominator)
