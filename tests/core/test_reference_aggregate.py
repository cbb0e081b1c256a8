"""Property tests: ballot aggregation and Kendall's W agree with the reference."""

import itertools
import math
from collections.abc import Sequence
from typing import Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

import smoa_core_rs as core
from tests.core.reference import aggregation
from tests.core.reference.ballots import BallotData
from tests.core.reference.kendall import kendall_w
from tests.core.strategies import ballots_over

RankMethod = Literal["borda", "rrf", "copeland"]
ScoreMethod = Literal["mean", "zmean"]
RANK_METHODS: list[RankMethod] = ["borda", "rrf", "copeland"]
SCORE_METHODS: list[ScoreMethod] = ["mean", "zmean"]


def to_core(ballots: Sequence[BallotData]) -> list[core.Ballot]:
    return [
        core.Ballot(
            scores=None if b.scores is None else dict(b.scores),
            ranking=None if b.ranking is None else list(b.ranking),
            weight=b.weight,
        )
        for b in ballots
    ]


def has_near_ties(keys: Sequence[Sequence[float]], rel: float) -> bool:
    """Whether two candidates differ in some key by less than float noise could explain."""
    for key in keys:
        for a, b in itertools.combinations(key, 2):
            if (
                a != b
                and not (math.isnan(a) or math.isnan(b))
                and math.isclose(a, b, rel_tol=rel, abs_tol=rel)
            ):
                return True
    return False


def assert_matches_reference(
    actual: core.Aggregate, expected: aggregation.AggregateResult, method: str, rel: float
) -> None:
    assert actual.method == method
    assert actual.scores == pytest.approx(expected.scores, rel=rel, abs=rel, nan_ok=True)
    assert actual.copeland == pytest.approx(expected.copeland, nan_ok=True)
    assert actual.mean_score == pytest.approx(expected.mean_score, rel=1e-9, abs=1e-9, nan_ok=True)
    assert actual.seen == expected.seen
    if expected.kendall_w is None:
        assert actual.kendall_w is None
    else:
        assert actual.kendall_w == pytest.approx(expected.kendall_w, rel=1e-9, abs=1e-12)
    # The ranking must follow the Rust's own keys exactly (that is the tie-break rule), and equal the
    # reference's wherever float noise cannot have reordered near-equal keys.
    own_keys = [actual.scores, actual.copeland, actual.mean_score, [float(s) for s in actual.seen]]
    assert actual.ranking == aggregation.rank_candidates(own_keys)
    reference_keys = [expected.scores, expected.copeland, expected.mean_score]
    if not has_near_ties(reference_keys, rel) and not has_near_ties(own_keys, rel):
        assert actual.ranking == expected.ranking
    k = len(actual.ranking) // 2
    assert actual.top(k) == actual.ranking[:k]


@given(ballots_over(), st.sampled_from(RANK_METHODS), st.sampled_from([60.0, 1.0, 0.5]))
def test_rank_methods_match_reference(
    ballot_set: tuple[list[BallotData], int], method: RankMethod, rrf_k: float
) -> None:
    ballots, n = ballot_set
    actual = core.aggregate(to_core(ballots), n, method=method, rrf_k=rrf_k)
    expected = aggregation.aggregate(ballots, n, method, rrf_k=rrf_k)
    assert_matches_reference(actual, expected, method, rel=1e-9)
    assert actual.iterations == 0


@given(ballots_over(with_scores=True), st.sampled_from(SCORE_METHODS))
def test_score_methods_match_reference(ballot_set: tuple[list[BallotData], int], method: ScoreMethod) -> None:
    ballots, n = ballot_set
    actual = core.aggregate(to_core(ballots), n, method=method)
    assert_matches_reference(actual, aggregation.aggregate(ballots, n, method), method, rel=1e-9)


@given(ballots_over(), st.sampled_from([0.5, 0.1, 2.0]))
def test_bradley_terry_matches_reference(ballot_set: tuple[list[BallotData], int], prior: float) -> None:
    ballots, n = ballot_set
    actual = core.aggregate(to_core(ballots), n, method="bradley_terry", bt_prior=prior)
    expected = aggregation.aggregate(ballots, n, "bradley_terry", bt_prior=prior)
    assert_matches_reference(actual, expected, "bradley_terry", rel=1e-6)
    seen_scores = [s for s in actual.scores if not math.isnan(s)]
    assert sum(seen_scores) == pytest.approx(0.0, abs=1e-9)
    # Rounding may move the stopping point by one iteration, no more.
    assert abs(actual.iterations - expected.iterations) <= 1


@given(ballots_over())
def test_kendall_w_matches_reference(ballot_set: tuple[list[BallotData], int]) -> None:
    ballots, n = ballot_set
    expected = kendall_w(ballots, n)
    actual = core.kendall_w(to_core(ballots), n)
    if expected is None:
        assert actual is None
    else:
        assert actual is not None
        assert actual == pytest.approx(expected, rel=1e-9, abs=1e-12)
        assert -1e-12 <= actual <= 1 + 1e-12


@given(ballots_over())
def test_ballot_reports_its_fields(ballot_set: tuple[list[BallotData], int]) -> None:
    for data, ballot in zip(ballot_set[0], to_core(ballot_set[0]), strict=True):
        assert ballot.scores == (None if data.scores is None else dict(data.scores))
        assert ballot.ranking == (None if data.ranking is None else list(data.ranking))
        assert ballot.weight == data.weight
        assert ballot.candidates == sorted(data.seen, key=lambda c: (-data.merit(c), c))
