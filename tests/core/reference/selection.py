"""``top_k``, ``mmr_top_k`` and ``centrality``."""

from collections.abc import Sequence


def top_k(scores: Sequence[float], k: int) -> list[int]:
    return sorted(range(len(scores)), key=lambda i: (-scores[i], i))[:k]


def scaled_scores(scores: Sequence[float]) -> list[float]:
    low, high = min(scores), max(scores)
    if low == high:
        return [1.0] * len(scores)
    return [(s - low) / (high - low) for s in scores]


def mmr_objective(
    scaled: Sequence[float], similarity: Sequence[Sequence[float]], picked: Sequence[int], lambda_: float
) -> list[float]:
    """The MMR value of every candidate given ``picked`` (the first pick uses the scaled score alone)."""
    if not picked:
        return list(scaled)
    return [lambda_ * s - (1 - lambda_) * max(similarity[i][p] for p in picked) for i, s in enumerate(scaled)]


def mmr_top_k(
    scores: Sequence[float], similarity: Sequence[Sequence[float]], k: int, lambda_: float = 0.7
) -> list[int]:
    scaled = scaled_scores(scores)
    picked: list[int] = []
    while len(picked) < k:
        objective = mmr_objective(scaled, similarity, picked, lambda_)
        best = None
        for i in range(len(scores)):
            if i not in picked and (best is None or objective[i] > objective[best]):
                best = i
        assert best is not None
        picked.append(best)
    return picked


def centrality(similarity: Sequence[Sequence[float]]) -> tuple[list[float], list[int]]:
    n = len(similarity)
    if n == 1:
        return [0.0], [0]
    scores = [sum(row[j] for j in range(n) if j != i) / (n - 1) for i, row in enumerate(similarity)]
    return scores, top_k(scores, n)
