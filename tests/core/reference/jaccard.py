"""Exact Jaccard similarity of shingle sets."""

from collections.abc import Sequence

from tests.core.reference.shingles import Shingle, ShingleSet, shingle_set


def jaccard(a: ShingleSet, b: ShingleSet) -> float:
    # Two texts with nothing to compare are the same (both empty), but empty vs. non-empty is not.
    if not a and not b:
        return 1.0
    union = len(a | b)
    return len(a & b) / union


def similarity_matrix(texts: Sequence[str], shingle: Shingle = "word", ngram: int = 3) -> list[list[float]]:
    sets = [shingle_set(text, shingle, ngram) for text in texts]
    return [[1.0 if i == j else jaccard(a, b) for j, b in enumerate(sets)] for i, a in enumerate(sets)]
