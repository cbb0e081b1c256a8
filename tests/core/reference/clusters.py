"""Union-find clusters, as ``dedup_exact`` and ``dedup_near(method="exact")`` report them."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tests.core.reference.jaccard import similarity_matrix
from tests.core.reference.normalization import normalize
from tests.core.reference.shingles import Shingle


@dataclass(frozen=True)
class ClusterResult:
    clusters: list[list[int]]
    representatives: list[int]
    labels: list[int]


def clusters_from_pairs(n: int, pairs: Iterable[tuple[int, int]]) -> ClusterResult:
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for i, j in pairs:
        ri, rj = root(i), root(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    members: dict[int, list[int]] = {}
    for i in range(n):
        members.setdefault(root(i), []).append(i)
    # Ascending i above makes each list sorted; ordering by smallest member numbers the clusters.
    clusters = sorted(members.values(), key=lambda cluster: cluster[0])
    labels = [0] * n
    for label, cluster in enumerate(clusters):
        for i in cluster:
            labels[i] = label
    return ClusterResult(clusters, [cluster[0] for cluster in clusters], labels)


def dedup_exact(texts: Sequence[str]) -> ClusterResult:
    normalized = [normalize(text) for text in texts]
    n = len(texts)
    return clusters_from_pairs(
        n, ((i, j) for i in range(n) for j in range(i) if normalized[i] == normalized[j])
    )


def dedup_near(
    texts: Sequence[str], threshold: float, shingle: Shingle = "word", ngram: int = 3
) -> ClusterResult:
    matrix = similarity_matrix(texts, shingle, ngram)
    n = len(texts)
    return clusters_from_pairs(n, ((i, j) for i in range(n) for j in range(i) if matrix[i][j] >= threshold))
