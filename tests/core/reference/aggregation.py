"""``aggregate``: every method's scores, the side statistics and the final ranking."""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tests.core.reference.ballots import BallotData
from tests.core.reference.bradley_terry import bradley_terry
from tests.core.reference.kendall import kendall_w

NAN = float("nan")


@dataclass(frozen=True)
class AggregateResult:
    scores: list[float]
    ranking: list[int]
    copeland: list[float]
    mean_score: list[float]
    seen: list[int]
    kendall_w: float | None
    iterations: int


def aggregate(
    ballots: Sequence[BallotData],
    n: int,
    method: str = "borda",
    rrf_k: float = 60.0,
    bt_prior: float = 0.5,
    bt_tol: float = 1e-9,
    bt_max_iter: int = 1000,
) -> AggregateResult:
    iterations = 0
    if method == "mean":
        scores = mean_score(ballots, n)
    elif method == "zmean":
        scores = zmean(ballots, n)
    elif method == "borda":
        scores = borda(ballots, n)
    elif method == "rrf":
        scores = rrf(ballots, n, rrf_k)
    elif method == "copeland":
        scores = copeland(ballots, n)
    elif method == "bradley_terry":
        scores, iterations = bradley_terry(ballots, n, bt_prior, bt_tol, bt_max_iter)
    else:
        raise ValueError(f"method: unknown {method!r}")
    cope, raw, seen = copeland(ballots, n), mean_score(ballots, n), seen_counts(ballots, n)
    return AggregateResult(
        scores=scores,
        ranking=rank_candidates([scores, cope, raw, [float(s) for s in seen]]),
        copeland=cope,
        mean_score=raw,
        seen=seen,
        kendall_w=kendall_w(ballots, n),
        iterations=iterations,
    )


def rank_candidates(keys: Sequence[Sequence[float]]) -> list[int]:
    """Order by each key descending in turn (NaN lowest), then index ascending."""

    def sort_key(i: int) -> tuple[float, ...]:
        return (*(math.inf if math.isnan(key[i]) else -key[i] for key in keys), float(i))

    return sorted(range(len(keys[0])), key=sort_key)


def seen_counts(ballots: Sequence[BallotData], n: int) -> list[int]:
    return [sum(1 for b in ballots if c in b.seen) for c in range(n)]


def weighted_mean(pairs: Sequence[tuple[float, float]]) -> float:
    """Weighted mean of (weight, value) pairs; NaN when there are none."""
    if not pairs:
        return NAN
    return sum(w * v for w, v in pairs) / sum(w for w, _ in pairs)


def mean_score(ballots: Sequence[BallotData], n: int) -> list[float]:
    return [
        weighted_mean([(b.weight, b.scores[c]) for b in ballots if b.scores is not None and c in b.scores])
        for c in range(n)
    ]


def zmean(ballots: Sequence[BallotData], n: int) -> list[float]:
    per_ballot = [(b.weight, z_scores(b.scores)) for b in ballots if b.scores is not None]
    return [weighted_mean([(w, z[c]) for w, z in per_ballot if c in z]) for c in range(n)]


def z_scores(scores: Mapping[int, float]) -> dict[int, float]:
    values = list(scores.values())
    # Zero spread is decided on the exact values: float rounding must not turn equal scores into
    # a tiny non-zero deviation that then divides to +-1.
    if all(v == values[0] for v in values):
        return dict.fromkeys(scores, 0.0)
    mean = sum(values) / len(values)
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
    if std == 0.0:  # distinct but so close that the squared deviations underflow
        return dict.fromkeys(scores, 0.0)
    return {c: (v - mean) / std for c, v in scores.items()}


def borda(ballots: Sequence[BallotData], n: int) -> list[float]:
    points: list[list[tuple[float, float]]] = [[] for _ in range(n)]
    for b in ballots:
        m = len(b.seen)
        for c in b.seen:
            beaten, tied = b.beaten_and_tied(c)
            points[c].append((b.weight, 0.5 if m == 1 else (beaten + tied / 2) / (m - 1)))
    return [weighted_mean(p) for p in points]


def rrf(ballots: Sequence[BallotData], n: int, rrf_k: float) -> list[float]:
    totals: list[float] = [NAN] * n
    for b in ballots:
        m = len(b.seen)
        for c in b.seen:
            beaten, tied = b.beaten_and_tied(c)
            rank = 1 + (m - 1 - beaten - tied) + tied / 2
            share = b.weight / (rrf_k + rank)
            totals[c] = share if math.isnan(totals[c]) else totals[c] + share
    return totals


def copeland(ballots: Sequence[BallotData], n: int) -> list[float]:
    result: list[float] = [NAN] * n
    for c in {c for b in ballots for c in b.seen}:
        result[c] = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            voters = [b for b in ballots if i in b.seen and j in b.seen]
            if not voters:
                continue
            for_i = sum(b.weight * b.preference(i, j) for b in voters)
            for_j = sum(b.weight * b.preference(j, i) for b in voters)
            result[i] += 1.0 if for_i > for_j else 0.5 if for_i == for_j else 0.0
            result[j] += 1.0 if for_j > for_i else 0.5 if for_i == for_j else 0.0
    return result
