"""Shingle sets of a text: word or character n-grams of its normalized form."""

from typing import Literal

from tests.core.reference.normalization import normalize, tokens

Shingle = Literal["word", "char"]

# The Rust hashes each shingle to u64; keeping the shingles themselves gives the same Jaccard
# unless two hashes collide, which the tests treat as impossible.
ShingleSet = frozenset[str | tuple[str, ...]]


def shingle_set(text: str, shingle: Shingle, ngram: int) -> ShingleSet:
    if shingle == "word":
        return word_shingles(tokens(text), ngram)
    return char_shingles(normalize(text), ngram)


def word_shingles(words: list[str], ngram: int) -> frozenset[tuple[str, ...]]:
    if not words:
        return frozenset()
    if len(words) < ngram:
        return frozenset([tuple(words)])
    return frozenset(tuple(words[i : i + ngram]) for i in range(len(words) - ngram + 1))


def char_shingles(normalized: str, ngram: int) -> frozenset[str]:
    if not normalized:
        return frozenset()
    if len(normalized) < ngram:
        return frozenset([normalized])
    return frozenset(normalized[i : i + ngram] for i in range(len(normalized) - ngram + 1))
