"""A ballot as plain data, and the order it puts the candidates it saw in."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class BallotData:
    scores: Mapping[int, float] | None = None
    ranking: Sequence[int] | None = None
    weight: float = 1.0

    @property
    def seen(self) -> frozenset[int]:
        if self.ranking is not None:
            return frozenset(self.ranking)
        assert self.scores is not None
        return frozenset(self.scores)

    def merit(self, candidate: int) -> float:
        """Higher is better. The ranking, when given, decides order (no ties); else the scores do."""
        if self.ranking is not None:
            return -float(list(self.ranking).index(candidate))
        assert self.scores is not None
        return self.scores[candidate]

    def beaten_and_tied(self, candidate: int) -> tuple[int, int]:
        """How many other seen candidates this ballot puts below / level with ``candidate``."""
        own = self.merit(candidate)
        others = [self.merit(c) for c in self.seen if c != candidate]
        return sum(1 for m in others if m < own), sum(1 for m in others if m == own)

    def preference(self, i: int, j: int) -> float:
        """1 if it prefers i to j, 0 if j to i, 0.5 for a tie; both must have been seen."""
        mi, mj = self.merit(i), self.merit(j)
        return 1.0 if mi > mj else 0.0 if mi < mj else 0.5

    def averaged_ranks(self, candidates: Sequence[int]) -> dict[int, float]:
        """1-based ranks among ``candidates`` only, tied candidates sharing their mean rank."""
        ranks = {}
        for c in candidates:
            own = self.merit(c)
            above = sum(1 for o in candidates if self.merit(o) > own)
            level = sum(1 for o in candidates if o != c and self.merit(o) == own)
            ranks[c] = 1 + above + level / 2
        return ranks
