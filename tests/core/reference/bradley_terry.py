"""Bradley-Terry log-strengths by the MM algorithm (Hunter 2004), Jacobi updates."""

import math
from collections.abc import Sequence

from tests.core.reference.ballots import BallotData


def bradley_terry(
    ballots: Sequence[BallotData], n: int, prior: float, tol: float, max_iter: int
) -> tuple[list[float], int]:
    """Centred log-strengths (NaN for unseen candidates) and the number of MM iterations run."""
    seen = sorted({c for b in ballots for c in b.seen})
    wins = [[0.0] * n for _ in range(n)]
    for i in seen:
        for j in seen:
            if i != j:
                wins[i][j] += prior
    for b in ballots:
        for i in b.seen:
            for j in b.seen:
                if i != j:
                    wins[i][j] += b.weight * b.preference(i, j)
    total_wins = {i: sum(wins[i]) for i in seen}
    log_p = dict.fromkeys(seen, 0.0)
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        p = {i: math.exp(log_p[i]) for i in seen}
        new_log_p = {}
        for i in seen:
            denominator = sum((wins[i][j] + wins[j][i]) / (p[i] + p[j]) for j in seen if j != i)
            # A lone seen candidate has no comparisons at all: its strength stays where it is.
            new_log_p[i] = math.log(total_wins[i] / denominator) if denominator > 0 else log_p[i]
        centre = sum(new_log_p.values()) / len(seen)
        new_log_p = {i: v - centre for i, v in new_log_p.items()}
        # Convergence is judged on the spread of the log strength ratios new/old, which centring
        # cannot change: the largest move any centred log-strength could still make.
        moves = [new_log_p[i] - log_p[i] for i in seen]
        change = max(moves) - min(moves)
        log_p = new_log_p
        if change < tol:
            break
    return [log_p.get(c, math.nan) for c in range(n)], iterations
