"""Example-based tests of the smoa_core_rs Python API: known answers, threads, and bad input."""

import math
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

import pytest

import smoa_core_rs as core

NAN = float("nan")
Method = Literal["mean", "zmean", "borda", "rrf", "copeland", "bradley_terry"]
ALL_METHODS: list[Method] = ["mean", "zmean", "borda", "rrf", "copeland", "bradley_terry"]


# --- normalize, fingerprint, dedup -----------------------------------------------------------------


def test_normalize_examples() -> None:
    assert core.normalize("  **Hello**,\tWORLD!! ") == "hello world"
    assert core.normalize("Straße ﬁne Ａ²") == "strasse fine a2"
    assert core.normalize("— ... —") == ""


def test_fingerprint_ignores_formatting() -> None:
    assert core.fingerprint("Hello, World") == core.fingerprint("**hello world**")
    assert core.fingerprint("hello world") != core.fingerprint("hello  worlds")
    assert 0 <= core.fingerprint("") < 2**128


def test_dedup_exact_examples() -> None:
    result = core.dedup_exact(["The cat.", "a dog", "the CAT", "A dog!", "fish"])
    assert result.clusters == [[0, 2], [1, 3], [4]]
    assert result.representatives == [0, 1, 4]
    assert result.labels == [0, 1, 0, 1, 2]
    assert result.removed == 2
    assert len(result) == 3
    assert result.method == "hash"
    assert result.matrix is None


def test_dedup_near_examples() -> None:
    texts = [
        "the quick brown fox jumps over the lazy dog",
        "completely different words in this one sentence",
        "The quick brown fox jumps over the lazy dog!",
        "the quick brown fox jumped over the lazy dog",
    ]
    strict = core.dedup_near(texts, threshold=0.9, method="exact")
    assert strict.clusters == [[0, 2], [1], [3]]
    # "jumped" replaces one word: 4 of 10 trigrams survive.
    loose = core.dedup_near(texts, threshold=0.4, method="exact", with_matrix=True)
    assert loose.clusters == [[0, 2, 3], [1]]
    assert loose.labels == [0, 1, 0, 0]
    assert loose.matrix is not None
    assert loose.matrix[0][3] == pytest.approx(4 / 10)
    assert loose.matrix[0][2] == 1.0
    assert [loose.matrix[i][i] for i in range(4)] == [1.0] * 4
    assert 0 <= loose.pairs_compared <= 6


def test_jaccard_of_empty_texts() -> None:
    assert core.similarity_matrix(["", "!!", "word"]) == [[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    assert core.similarity_matrix(["ab", "abc"], shingle="char", ngram=3) == [[1.0, 0.0], [0.0, 1.0]]


def test_minhash_is_used_when_asked_for() -> None:
    assert core.dedup_near(["a b c", "a b d"], threshold=0.5, method="minhash").method == "minhash"


def test_minhash_falls_back_to_exact_where_lsh_would_miss_pairs() -> None:
    # No band shape catches a pair at J = 0.0 (or 0.01), so the exact join runs and says so.
    for threshold in (0.0, 0.01):
        result = core.dedup_near(["a b c", "x y z"], threshold=threshold, method="minhash")
        assert result.method == "exact"
    assert core.dedup_near(["a b c", "x y z"], threshold=0.0, method="minhash").clusters == [[0, 1]]


def test_auto_picks_the_cheaper_join() -> None:
    # Long answers sharing boilerplate give the exact join many candidates to verify: MinHash is cheaper.
    boilerplate = " ".join(f"common{i}" for i in range(40))
    long = [f"{boilerplate} {' '.join(f'w{i}x{j}' for j in range(200))} {boilerplate}" for i in range(150)]
    assert core.dedup_near(long).method == "minhash"
    assert core.dedup_near(long[: core.MINHASH_AUTO_MIN_N - 1]).method == "exact"
    # Short distinct answers leave the exact join little to verify, at any n.
    short = [f"text number {i} here" for i in range(1000)]
    assert core.dedup_near(short).method == "exact"
    assert core.dedup_near(long).clusters == core.dedup_near(long, method="exact").clusters


def test_dedup_releases_gil_safely() -> None:
    rng = random.Random(3)
    vocabulary = [f"w{i}" for i in range(300)]
    texts = [" ".join(rng.choices(vocabulary, k=30)) for _ in range(300)]
    texts += [t + " extra" for t in texts[:50]]

    def run() -> list[list[int]]:
        return core.dedup_near(texts, threshold=0.7, method="exact").clusters

    expected = run()
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(run) for _ in range(4)]
        results = [f.result(timeout=120) for f in futures]
    assert all(r == expected for r in results)
    assert sum(len(c) > 1 for c in expected) == 50


# --- answer keys -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\\boxed{1,250.50}", "1250.5"),
        ("so the total is \\boxed{ +007 } dollars", "7"),
        ("\\boxed{-0}", "0"),
        ("first \\boxed{3} then \\boxed{\\frac{1}{2}}", "frac 1 2"),
        ("\\boxed{(B)}", "B"),
        ("\\boxed{Paris, France}", "paris france"),
        ("The answer is (C).", "C"),
        ("Answer: D", "D"),
        ("I think the answer is 12, not 13.", "12"),
        ("The answer is Paris. It is the capital.", "paris"),
        ("so x = 3/4", "3/4"),
        ("answer: x. 7", "x"),  # only the first sentence after the phrase counts
        ("The answer is\n(C) 4", "4"),
        ("It costs 1,000 then 2,500.00 in total", "2500"),
        ("-0.50 is it", "-0.5"),
        ("no number here", None),
        ("", None),
    ],
)
def test_answer_key_examples(text: str, expected: str | None) -> None:
    assert core.answer_key(text) == expected


def test_answer_key_skips_an_empty_boxed() -> None:
    # A box with nothing in it commits to nothing: the later rules decide.
    assert core.answer_key("5 \\boxed{}") == "5"
    assert core.answer_key("5 \\boxed{ , }") == "5"


def test_answer_key_skips_only_the_unclosed_boxed() -> None:
    # "the last \\boxed{...} whose braces balance": an unclosed last one leaves the earlier closed one.
    assert core.answer_key("\\boxed{1} and \\boxed{2") == "1"


def test_answer_keys_batch() -> None:
    assert core.answer_keys(["\\boxed{2}", "nothing", "The answer is (A)"]) == ["2", None, "A"]


# --- aggregation ----------------------------------------------------------------------------------------

# Over 4 candidates: a full ranking, a score ballot with a tie (0 and 2), a weight-2 ballot that saw only
# candidate 1; candidate 3 is never seen.
MIXED = [
    core.Ballot(ranking=[2, 0, 1]),
    core.Ballot(scores={0: 1.0, 1: 3.0, 2: 1.0}),
    core.Ballot(scores={1: 5.0}, weight=2.0),
]
# Score ballots for mean / zmean: the second has zero spread and weight 3.
SCORED = [core.Ballot(scores={0: 1.0, 1: 2.0, 2: 3.0}), core.Ballot(scores={0: 4.0, 1: 4.0}, weight=3.0)]


def assert_scores(actual: list[float], expected: list[float]) -> None:
    assert actual == pytest.approx(expected, rel=1e-12, nan_ok=True)


def test_borda_by_hand() -> None:
    result = core.aggregate(MIXED, 4, method="borda")
    assert result.method == "borda"
    assert_scores(result.scores, [(0.5 + 0.25) / 2, (0 + 1 + 2 * 0.5) / 4, (1 + 0.25) / 2, NAN])
    assert result.ranking == [2, 1, 0, 3]
    assert result.seen == [2, 3, 2, 0]
    assert_scores(result.mean_score, [1.0, 13 / 3, 1.0, NAN])
    assert result.kendall_w is None  # only candidate 1 was seen by every ballot
    assert result.iterations == 0
    assert result.top(2) == [2, 1]


def test_rrf_by_hand() -> None:
    result = core.aggregate(MIXED, 4, method="rrf", rrf_k=60.0)
    assert_scores(result.scores, [1 / 62 + 1 / 62.5, 1 / 63 + 1 / 61 + 2 / 61, 1 / 61 + 1 / 62.5, NAN])
    assert result.ranking == [1, 2, 0, 3]


def test_copeland_by_hand() -> None:
    result = core.aggregate(MIXED, 4, method="copeland")
    # 0-1 and 1-2 split one ballot each (half a win each); 2 beats 0 once and ties once.
    assert_scores(result.scores[:3], [0.5, 1.0, 1.5])
    assert math.isnan(result.scores[3])
    assert result.copeland[:3] == [0.5, 1.0, 1.5]
    assert result.ranking == [2, 1, 0, 3]


def test_mean_and_zmean_by_hand() -> None:
    mean = core.aggregate(SCORED, 3, method="mean")
    assert_scores(mean.scores, [(1 + 12) / 4, (2 + 12) / 4, 3.0])
    assert mean.ranking == [1, 0, 2]
    zmean = core.aggregate(SCORED, 3, method="zmean")
    z = math.sqrt(1.5)  # (3 - 2) / population std of (1, 2, 3)
    assert zmean.scores == pytest.approx([-z / 4, 0.0, z], abs=1e-12)
    assert zmean.ranking == [2, 1, 0]


def test_ballot_ties_and_candidates() -> None:
    ballot = core.Ballot(scores={3: 1.0, 0: 2.0, 1: 1.0})
    assert ballot.candidates == [0, 1, 3]
    assert ballot.ranking is None
    assert ballot.weight == 1.0
    both = core.Ballot(scores={0: 1.0, 1: 2.0}, ranking=[0, 1], weight=0.5)
    assert both.candidates == [0, 1]
    assert both.scores == {0: 1.0, 1: 2.0}


def test_ballot_candidates_treat_signed_zeros_as_tied() -> None:
    # -0.0 == 0.0, so the two tie and go by index, as top_k and the aggregates already do.
    assert core.Ballot(scores={0: -0.0, 1: 0.0}).candidates == [0, 1]


@pytest.mark.parametrize("method", ALL_METHODS)
def test_identical_ballots_give_their_ranking(method: Method) -> None:
    ballot = core.Ballot(scores={0: 0.2, 1: 0.9, 2: 0.5, 3: 0.1}, ranking=[1, 2, 0, 3])
    result = core.aggregate([ballot] * 3, 4, method=method)
    assert result.ranking == [1, 2, 0, 3]
    assert result.kendall_w == pytest.approx(1.0)
    assert result.copeland == [1.0, 3.0, 2.0, 0.0]


def test_bradley_terry_recovers_consistent_order() -> None:
    order = [3, 1, 4, 0, 2]
    rng = random.Random(5)
    ballots = []
    for _ in range(30):
        # Each judge sees a random subset of at least three candidates, always in the true order.
        seen = set(rng.sample(range(5), rng.randint(3, 5)))
        ballots.append(core.Ballot(ranking=[c for c in order if c in seen], weight=rng.choice([0.5, 1.0])))
    result = core.aggregate(ballots, 5, method="bradley_terry")
    assert result.ranking == order
    assert 0 < result.iterations <= 1000
    assert sum(result.scores) == pytest.approx(0.0, abs=1e-9)
    strengths = [result.scores[c] for c in order]
    assert strengths == sorted(strengths, reverse=True)


def test_zmean_equal_scores_have_zero_spread() -> None:
    # 0.1 is not dyadic: the float mean of three 0.1s is not 0.1, but the spread is still zero.
    result = core.aggregate([core.Ballot(scores={0: 0.1, 1: 0.1, 2: 0.1})], 3, method="zmean")
    assert result.scores == [0.0, 0.0, 0.0]


def test_kendall_w_function() -> None:
    agree = [core.Ballot(ranking=[0, 1, 2]), core.Ballot(scores={0: 3.0, 1: 2.0, 2: 1.0})]
    assert core.kendall_w(agree, 3) == pytest.approx(1.0)
    assert core.kendall_w([core.Ballot(ranking=[0, 1]), core.Ballot(ranking=[1, 0])], 2) == pytest.approx(0.0)
    assert core.kendall_w([core.Ballot(ranking=[0, 1])], 2) is None
    all_tied = [core.Ballot(scores={0: 1.0, 1: 1.0}), core.Ballot(scores={0: 2.0, 1: 2.0})]
    assert core.kendall_w(all_tied, 2) is None


# --- selection ---------------------------------------------------------------------------------------


def test_top_k_examples() -> None:
    assert core.top_k([1.0, 3.0, 3.0, 2.0], 3) == [1, 2, 3]
    assert core.top_k([1.0], 0) == []
    assert core.top_k([-1.0, -1.0], 2) == [0, 1]


def test_mmr_prefers_diverse_item_over_near_duplicate() -> None:
    scores = [1.0, 0.95, 0.5]
    similarity = [[1.0, 0.99, 0.1], [0.99, 1.0, 0.1], [0.1, 0.1, 1.0]]
    assert core.mmr_top_k(scores, similarity, 2, lambda_=0.3) == [0, 2]
    assert core.mmr_top_k(scores, similarity, 2, lambda_=1.0) == [0, 1]
    assert core.mmr_top_k(scores, similarity, 3, lambda_=0.3) == [0, 2, 1]


def test_mmr_first_pick_is_the_best_score_whatever_lambda() -> None:
    # Nothing is picked yet, so there is no redundancy term: the first pick is the top scaled score.
    assert core.mmr_top_k([0.0, 1.0], [[1.0, 0.0], [0.0, 1.0]], 1, lambda_=0.0) == [1]


def test_mmr_ties_go_to_lower_index() -> None:
    assert core.mmr_top_k([2.0, 2.0, 2.0], [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], 3) == [
        0,
        1,
        2,
    ]


def test_centrality_examples() -> None:
    similarity = [[1.0, 0.2, 0.8], [0.2, 1.0, 0.4], [0.8, 0.4, 1.0]]
    result = core.centrality(similarity)
    assert result.scores == pytest.approx([0.5, 0.3, 0.6])
    assert result.ranking == [2, 0, 1]
    assert core.centrality([[1.0]]).scores == [0.0]
    assert core.centrality([[1.0, 0.5], [0.5, 1.0]]).ranking == [0, 1]


# --- bad input -----------------------------------------------------------------------------------------

BAD_INPUT: list[tuple[str, Callable[[], object], str]] = [
    # Empty lists.
    ("dedup_exact empty", lambda: core.dedup_exact([]), r"^texts: must not be empty"),
    ("dedup_near empty", lambda: core.dedup_near([]), r"^texts\b"),
    ("similarity_matrix empty", lambda: core.similarity_matrix([]), r"^texts\b"),
    ("answer_keys empty", lambda: core.answer_keys([]), r"^texts\b"),
    ("aggregate no ballots", lambda: core.aggregate([], 3), r"^ballots: must not be empty"),
    ("kendall_w no ballots", lambda: core.kendall_w([], 3), r"^ballots\b"),
    ("top_k empty", lambda: core.top_k([], 0), r"^scores\b"),
    ("mmr empty", lambda: core.mmr_top_k([], [], 0), r"^(scores|similarity)\b"),
    ("centrality empty", lambda: core.centrality([]), r"^similarity\b"),
    # A str where a sequence of str belongs, and items that are not strings.
    ("dedup_exact str", lambda: core.dedup_exact("abc"), r"^texts\b"),
    ("dedup_near str", lambda: core.dedup_near("abc"), r"^texts\b"),
    ("answer_keys str", lambda: core.answer_keys("abc"), r"^texts\b"),
    ("int item", lambda: core.dedup_exact(["a", "b", "c", 3]), r"^texts\[3\]: expected str, got int"),  # type: ignore[list-item]
    ("dedup_near None item", lambda: core.dedup_near(["a", None]), r"^texts\[1\]"),  # type: ignore[list-item]
    ("similarity bytes item", lambda: core.similarity_matrix([b"a"]), r"^texts\[0\]"),  # type: ignore[list-item]
    ("answer_keys int item", lambda: core.answer_keys(["a", 1]), r"^texts\[1\]"),  # type: ignore[list-item]
    # Options out of range.
    ("thr>1", lambda: core.dedup_near(["a"], threshold=1.5), r"^threshold: must be in \[0, 1\], got 1\.5"),
    ("threshold low", lambda: core.dedup_near(["a"], threshold=-0.1), r"^threshold\b"),
    ("threshold nan", lambda: core.dedup_near(["a"], threshold=NAN), r"^threshold\b"),
    ("ngram zero", lambda: core.dedup_near(["a"], ngram=0), r"^ngram\b"),
    ("similarity ngram zero", lambda: core.similarity_matrix(["a"], ngram=0), r"^ngram\b"),
    ("shingle unknown", lambda: core.dedup_near(["a"], shingle="line"), r"^shingle\b"),  # type: ignore[arg-type]
    ("similarity shingle", lambda: core.similarity_matrix(["a"], shingle="x"), r"^shingle\b"),  # type: ignore[arg-type]
    ("dedup method unknown", lambda: core.dedup_near(["a"], method="fuzzy"), r"^method\b"),  # type: ignore[arg-type]
    # top_k / mmr / centrality.
    ("k too large", lambda: core.top_k([1.0, 2.0, 3.0, 4.0], 5), r"^k: must be in \[0, 4\], got 5"),
    ("k negative", lambda: core.top_k([1.0, 2.0], -1), r"^k\b"),
    ("nan score", lambda: core.top_k([1.0, 2.0, NAN], 1), r"^scores\[2\]: must be finite, got nan"),
    ("inf score", lambda: core.top_k([1.0, 2.0, math.inf], 1), r"^scores\[2\]: must be finite"),
    ("mmr k too large", lambda: core.mmr_top_k([1.0], [[1.0]], 2), r"^k\b"),
    ("mmr k negative", lambda: core.mmr_top_k([1.0], [[1.0]], -1), r"^k\b"),
    ("mmr nan score", lambda: core.mmr_top_k([1.0, NAN], [[1.0, 0.0], [0.0, 1.0]], 1), r"^scores\[1\]"),
    ("mmr rows vs scores", lambda: core.mmr_top_k([1.0, 2.0], [[1.0, 0.0]], 1), r"^similarity\b"),
    ("mmr short row", lambda: core.mmr_top_k([1.0, 2.0], [[1.0, 0.0], [0.0]], 1), r"^similarity\b"),
    ("mmr nan similarity", lambda: core.mmr_top_k([1.0, 2.0], [[1.0, NAN], [NAN, 1.0]], 2), r"^similarity\b"),
    ("mmr lambda", lambda: core.mmr_top_k([1.0], [[1.0]], 1, lambda_=1.5), r"^lambda_\b"),
    ("centrality not square", lambda: core.centrality([[1.0, 0.5], [0.5]]), r"^similarity\b"),
    ("centrality nan", lambda: core.centrality([[1.0, NAN], [0.5, 1.0]]), r"^similarity\b"),
    # Ballots themselves.
    ("ballot neither", lambda: core.Ballot(), r"^(scores|ranking)\b"),
    ("ballot empty scores", lambda: core.Ballot(scores={}), r"^scores\b"),
    ("ballot empty ranking", lambda: core.Ballot(ranking=[]), r"^ranking\b"),
    ("ballot nan score", lambda: core.Ballot(scores={0: NAN}), r"^scores\b"),
    ("ballot negative candidate", lambda: core.Ballot(scores={-1: 1.0}), r"^scores\b"),
    ("ballot negative rank", lambda: core.Ballot(ranking=[0, -1]), r"^ranking\b"),
    ("ballot duplicate rank", lambda: core.Ballot(ranking=[1, 0, 1]), r"^ranking\b"),
    ("ballot mismatch", lambda: core.Ballot(scores={0: 1.0, 1: 2.0}, ranking=[0, 2]), r"^(scores|ranking)\b"),
    ("ballot zero weight", lambda: core.Ballot(ranking=[0], weight=0.0), r"^weight\b"),
    ("ballot negative weight", lambda: core.Ballot(ranking=[0], weight=-1.0), r"^weight\b"),
    ("ballot nan weight", lambda: core.Ballot(ranking=[0], weight=NAN), r"^weight\b"),
    ("ballot inf weight", lambda: core.Ballot(ranking=[0], weight=math.inf), r"^weight\b"),
    # Aggregation over ballots.
    (
        "ranking out of range",
        lambda: core.aggregate([core.Ballot(ranking=[0]), core.Ballot(ranking=[1, 2, 17])], 16),
        r"^ballots\[1\]\.ranking\[2\]: candidate 17 out of range for n=16",
    ),
    ("score >= n", lambda: core.aggregate([core.Ballot(scores={3: 1.0})], 3), r"^ballots\[0\]\.scores"),
    ("kendall out of range", lambda: core.kendall_w([core.Ballot(ranking=[5])], 3), r"^ballots\[0\]"),
    ("n zero", lambda: core.aggregate([core.Ballot(ranking=[0])], 0), r"^(n|ballots\[0\])\b"),
    ("n negative", lambda: core.aggregate([core.Ballot(ranking=[0])], -1), r"^n\b"),
    ("mean needs scores", lambda: core.aggregate(MIXED, 4, method="mean"), r"^ballots\[0\]\.scores"),
    ("zmean needs scores", lambda: core.aggregate(MIXED, 4, method="zmean"), r"^ballots\[0\]\.scores"),
    ("aggregate method", lambda: core.aggregate(MIXED, 4, method="vote"), r"^method\b"),  # type: ignore[arg-type]
]  # fmt: skip


@pytest.mark.parametrize(
    ("call", "message"), [case[1:] for case in BAD_INPUT], ids=[case[0] for case in BAD_INPUT]
)
def test_bad_input_raises_value_error_naming_the_argument(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()
