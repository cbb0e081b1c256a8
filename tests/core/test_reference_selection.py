"""Property tests: top-k, MMR and centrality agree with the reference."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

import smoa_core_rs as core
from tests.core.reference import selection
from tests.core.strategies import SCORES, similarity_matrices

# Near-equal MMR objectives may be ordered either way by float noise; anything closer than this counts
# as a tie the Rust may break differently.
MMR_TOLERANCE = 1e-9


@st.composite
def scores_and_k(draw: st.DrawFn) -> tuple[list[float], int]:
    scores = draw(st.lists(SCORES, min_size=1, max_size=10))
    return scores, draw(st.integers(0, len(scores)))


@given(scores_and_k())
def test_top_k_matches_reference(case: tuple[list[float], int]) -> None:
    scores, k = case
    assert core.top_k(scores, k) == selection.top_k(scores, k)


@st.composite
def mmr_case(draw: st.DrawFn) -> tuple[list[float], list[list[float]], int, float]:
    scores, k = draw(scores_and_k())
    similarity = draw(similarity_matrices(len(scores), symmetric=draw(st.booleans())))
    lambda_ = draw(st.one_of(st.sampled_from([0.0, 0.5, 0.7, 1.0]), st.floats(0.0, 1.0)))
    return scores, similarity, k, lambda_


@given(mmr_case())
def test_mmr_top_k_matches_reference(case: tuple[list[float], list[list[float]], int, float]) -> None:
    scores, similarity, k, lambda_ = case
    picked = core.mmr_top_k(scores, similarity, k, lambda_=lambda_)
    assert len(picked) == k
    assert len(set(picked)) == k
    # Replay the Rust's picks: each must be the reference's best next pick, or within float noise of it.
    scaled = selection.scaled_scores(scores)
    for step, pick in enumerate(picked):
        objective = selection.mmr_objective(scaled, similarity, picked[:step], lambda_)
        remaining = [i for i in range(len(scores)) if i not in picked[:step]]
        best = max(remaining, key=lambda i: (objective[i], -i))
        if pick != best:
            assert math.isclose(
                objective[pick], objective[best], rel_tol=MMR_TOLERANCE, abs_tol=MMR_TOLERANCE
            )


@given(st.integers(1, 8).flatmap(lambda n: similarity_matrices(n, symmetric=False)))
def test_centrality_matches_reference(similarity: list[list[float]]) -> None:
    scores, ranking = selection.centrality(similarity)
    actual = core.centrality(similarity)
    assert actual.scores == pytest.approx(scores, rel=1e-12, abs=1e-12)
    assert actual.ranking == selection.top_k(actual.scores, len(scores))
    if actual.scores == scores:
        assert actual.ranking == ranking
