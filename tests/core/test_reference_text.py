"""Property tests: normalization, fingerprints, similarity and dedup agree with the reference."""

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

import smoa_core_rs as core
from tests.core.reference import clusters as reference_clusters
from tests.core.reference.clusters import ClusterResult
from tests.core.reference.jaccard import similarity_matrix
from tests.core.reference.normalization import normalize
from tests.core.reference.shingles import Shingle
from tests.core.strategies import ALPHABET_TEXT, THRESHOLDS, texts_with_near_duplicates, wordy_text

SHINGLES = st.sampled_from(["word", "char"])
NGRAMS = st.integers(1, 5)


def assert_clusters_equal(actual: core.Clusters, expected: ClusterResult) -> None:
    assert actual.clusters == expected.clusters
    assert actual.representatives == expected.representatives
    assert actual.labels == expected.labels
    assert len(actual) == len(expected.clusters)
    assert actual.removed == len(expected.labels) - len(expected.clusters)


@given(st.one_of(ALPHABET_TEXT, wordy_text()))
def test_normalize_matches_reference(text: str) -> None:
    assert core.normalize(text) == normalize(text)


@given(st.lists(st.one_of(ALPHABET_TEXT, wordy_text()), min_size=2, max_size=6))
def test_fingerprint_depends_only_on_normalized_text(texts: list[str]) -> None:
    prints = [core.fingerprint(text) for text in texts]
    assert all(0 <= p < 2**128 for p in prints)
    for (a, pa), (b, pb) in itertools.combinations(zip(texts, prints, strict=True), 2):
        assert (pa == pb) == (normalize(a) == normalize(b))


@given(texts_with_near_duplicates())
def test_dedup_exact_matches_reference(texts: list[str]) -> None:
    result = core.dedup_exact(texts)
    assert result.method == "hash"
    assert result.matrix is None
    assert_clusters_equal(result, reference_clusters.dedup_exact(texts))


@given(texts_with_near_duplicates(), SHINGLES, NGRAMS)
def test_similarity_matrix_matches_reference(texts: list[str], shingle: Shingle, ngram: int) -> None:
    assert core.similarity_matrix(texts, shingle=shingle, ngram=ngram) == similarity_matrix(
        texts, shingle, ngram
    )


@given(texts_with_near_duplicates(), THRESHOLDS, SHINGLES, NGRAMS, st.booleans())
def test_dedup_near_exact_matches_reference(
    texts: list[str], threshold: float, shingle: Shingle, ngram: int, with_matrix: bool
) -> None:
    result = core.dedup_near(
        texts, threshold=threshold, shingle=shingle, ngram=ngram, method="exact", with_matrix=with_matrix
    )
    assert result.method == "exact"
    assert_clusters_equal(result, reference_clusters.dedup_near(texts, threshold, shingle, ngram))
    n = len(texts)
    # Pairs a size filter rules out need not be computed.
    assert 0 <= result.pairs_compared <= n * (n - 1) // 2
    if with_matrix:
        assert result.matrix == similarity_matrix(texts, shingle, ngram)
    else:
        assert result.matrix is None


@given(
    texts_with_near_duplicates(max_size=14),
    THRESHOLDS,
    SHINGLES,
    NGRAMS,
    st.sampled_from([16, 64, 128]),
    st.integers(0, 2**32),
)
def test_dedup_near_minhash_only_merges_true_pairs(
    texts: list[str], threshold: float, shingle: Shingle, ngram: int, num_perm: int, seed: int
) -> None:
    result = core.dedup_near(
        texts,
        threshold=threshold,
        shingle=shingle,
        ngram=ngram,
        method="minhash",
        num_perm=num_perm,
        seed=seed,
        with_matrix=True,
    )
    matrix = similarity_matrix(texts, shingle, ngram)
    assert result.matrix == matrix
    n = len(texts)
    assert 0 <= result.pairs_compared <= n * (n - 1) // 2
    exact = reference_clusters.dedup_near(texts, threshold, shingle, ngram)
    # At very low thresholds the Rust falls back to exact comparison (test_core_api checks the reported
    # method separately); then the clusters must be the exact ones.
    assert result.method in ("minhash", "exact")
    if result.method == "exact":
        assert_clusters_equal(result, exact)
    for cluster in result.clusters:
        # Every merge is a verified pair, so each cluster lies inside one exact cluster and its
        # members are connected through pairs at or above the threshold.
        assert len({exact.labels[i] for i in cluster}) == 1
        true_pairs = [(i, j) for i in cluster for j in cluster if i < j and matrix[i][j] >= threshold]
        assert len(reference_clusters.clusters_from_pairs(n, true_pairs).clusters) == n - len(cluster) + 1
    # Whatever the clusters are, they must be reported consistently.
    as_pairs = [(c[0], i) for c in result.clusters for i in c[1:]]
    assert_clusters_equal(result, reference_clusters.clusters_from_pairs(n, as_pairs))


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_minhash_recall_on_near_duplicates(seed: int) -> None:
    import random

    rng = random.Random(seed)
    vocabulary = [f"w{i}" for i in range(500)]
    texts = []
    for _ in range(40):
        words = rng.choices(vocabulary, k=40)
        texts.append(" ".join(words))
        for _ in range(3):
            copy = list(words)
            copy[rng.randrange(len(copy))] = rng.choice(vocabulary)
            texts.append(" ".join(copy))
    rng.shuffle(texts)
    threshold = 0.5
    matrix = similarity_matrix(texts)
    true_pairs = [(i, j) for i in range(len(texts)) for j in range(i) if matrix[i][j] >= threshold]
    result = core.dedup_near(texts, threshold=threshold, method="minhash", seed=seed)
    found = sum(1 for i, j in true_pairs if result.labels[i] == result.labels[j])
    assert len(true_pairs) >= 200
    assert found / len(true_pairs) >= 0.95
    assert result.pairs_compared < len(texts) * (len(texts) - 1) // 2
