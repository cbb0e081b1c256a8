"""Hand-checked cases for the pure-Python reference itself (no extension needed).

The property tests trust the reference, so it gets its own small, obviously-right examples.
"""

import math

import pytest

from tests.core.reference.aggregation import aggregate, borda, copeland, mean_score, rrf, zmean
from tests.core.reference.answer_key import answer_key, canonical_number
from tests.core.reference.ballots import BallotData
from tests.core.reference.clusters import dedup_exact, dedup_near
from tests.core.reference.jaccard import jaccard, similarity_matrix
from tests.core.reference.kendall import kendall_w
from tests.core.reference.normalization import normalize
from tests.core.reference.selection import centrality, mmr_top_k, top_k
from tests.core.reference.shingles import shingle_set


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Hello,   WORLD!! ", "hello world"),
        ("**Straße** — ﬁne", "strasse fine"),
        ("Ａ²\tb\nc", "a2 b c"),
        ("...", ""),
        ("x_y-z", "x y z"),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_shingles_short_and_empty() -> None:
    assert shingle_set("a b", "word", 3) == frozenset([("a", "b")])
    assert shingle_set("a b c d", "word", 3) == frozenset([("a", "b", "c"), ("b", "c", "d")])
    assert shingle_set("ab c", "char", 3) == frozenset(["ab ", "b c"])
    assert shingle_set("ab", "char", 3) == frozenset(["ab"])
    assert shingle_set("!!", "word", 3) == frozenset()


def test_jaccard_edge_cases() -> None:
    assert jaccard(frozenset(), frozenset()) == 1.0
    assert jaccard(frozenset(), frozenset(["a"])) == 0.0
    assert similarity_matrix(["a b c d", "a b c e"], "word", 3) == [[1.0, 1 / 3], [1 / 3, 1.0]]


def test_clusters_order_and_labels() -> None:
    result = dedup_exact(["b", "a", "B!", "c", "A"])
    assert result.clusters == [[0, 2], [1, 4], [3]]
    assert result.representatives == [0, 1, 3]
    assert result.labels == [0, 1, 0, 2, 1]
    near = dedup_near(["a b c d", "x y", "a b c e", "a b c d!"], 0.5)
    assert near.clusters == [[0, 3], [1], [2]]


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("1,250.50", "1250.5"),
        ("+007", "7"),
        ("-0", "0"),
        ("-0.000", "0"),
        ("0.0", "0"),
        ("-3/04", "-3/4"),
        ("2.50/10", "2.5/10"),
        ("-0.50", "-0.5"),
    ],
)
def test_canonical_number(number: str, expected: str) -> None:
    assert canonical_number(number) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("so \\boxed{1,250.50} done", "1250.5"),
        ("\\boxed{1} then \\boxed{ 2 }", "2"),
        ("\\boxed{\\frac{1}{2}}", "frac 1 2"),
        ("\\boxed{1} and \\boxed{2", "1"),
        ("\\boxed{ (C) }", "C"),
        ("\\boxed{}", None),
        ("The answer is (C).", "C"),
        ("Answer: B", "B"),
        ("the answer is Apple pie. Really", "apple pie"),
        ("answer is 12 or 13, final 14", "12"),
        ("answer: x. 7", "x"),
        ("answer: so\n7", "so"),
        ("The answer is\n(C) 4", "4"),
        ("my answer isn't 5", "5"),
        ("so x = 3/4", "3/4"),
        ("no number here", None),
        ("answer: ...", None),
        ("7 and then the answer is: ?!", "7"),
    ],
)
def test_answer_key(text: str, expected: str | None) -> None:
    assert answer_key(text) == expected


# Three ballots over four candidates: a full ranking, a partial score ballot with a tie, a
# weighted single-candidate ballot.
BALLOTS = [
    BallotData(ranking=[2, 0, 1]),
    BallotData(scores={0: 1.0, 1: 3.0, 2: 1.0}),
    BallotData(scores={1: 5.0}, weight=2.0),
]


def test_hand_computed_aggregates() -> None:
    assert borda(BALLOTS, 4)[:3] == pytest.approx([(0.5 + 0.25) / 2, (0 + 1 + 2 * 0.5) / 4, (1 + 0.25) / 2])
    assert math.isnan(borda(BALLOTS, 4)[3])
    assert rrf(BALLOTS, 4, 60.0)[:3] == pytest.approx(
        [1 / 62 + 1 / 62.5, 1 / 63 + 1 / 61 + 2 / 61, 1 / 61 + 1 / 62.5]
    )
    # 0 vs 1: ballot 0 prefers 0 (w1), ballot 1 prefers 1 (w1): tie. 0 vs 2: 2 wins then tie -> 2.
    # 1 vs 2: 2 then 1 -> tie.
    assert copeland(BALLOTS, 4)[:3] == [0.5 + 0.0, 0.5 + 0.5, 1.0 + 0.5]
    assert mean_score(BALLOTS, 4)[:3] == pytest.approx([1.0, (3 + 10) / 3, 1.0])
    z = zmean(BALLOTS, 4)
    assert z[0] == pytest.approx(-1 / math.sqrt(2))
    assert z[1] == pytest.approx((math.sqrt(2) + 0.0 * 2) / 3)
    result = aggregate(BALLOTS, 4, "copeland")
    assert result.ranking == [2, 1, 0, 3]
    assert result.seen == [2, 3, 2, 0]


def test_kendall_w() -> None:
    identical = [BallotData(ranking=[0, 1, 2]), BallotData(scores={0: 3.0, 1: 2.0, 2: 1.0})]
    assert kendall_w(identical, 3) == pytest.approx(1.0)
    opposite = [BallotData(ranking=[0, 1]), BallotData(ranking=[1, 0])]
    assert kendall_w(opposite, 2) == pytest.approx(0.0)
    all_tied = [BallotData(scores={0: 1.0, 1: 1.0}), BallotData(scores={0: 2.0, 1: 2.0})]
    assert kendall_w(all_tied, 2) is None
    assert kendall_w([BallotData(ranking=[0, 1])], 2) is None


def test_bradley_terry_orders_consistent_ballots() -> None:
    ballots = [BallotData(ranking=[1, 2, 0])] * 5
    result = aggregate(ballots, 3, "bradley_terry")
    assert result.ranking == [1, 2, 0]
    assert sum(result.scores) == pytest.approx(0.0, abs=1e-12)
    assert result.iterations > 1


def test_selection() -> None:
    assert top_k([1.0, 3.0, 3.0, 2.0], 3) == [1, 2, 3]
    sim = [[1.0, 0.99, 0.1], [0.99, 1.0, 0.1], [0.1, 0.1, 1.0]]
    assert mmr_top_k([1.0, 0.95, 0.5], sim, 2, lambda_=0.3) == [0, 2]
    assert mmr_top_k([1.0, 0.95, 0.5], sim, 2, lambda_=1.0) == [0, 1]
    scores, ranking = centrality(sim)
    assert scores == pytest.approx([0.545, 0.545, 0.1])
    assert ranking == [0, 1, 2]
