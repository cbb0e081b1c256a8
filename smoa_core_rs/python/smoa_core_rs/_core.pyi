"""Native core of smoa (private: import from ``smoa_core_rs``).

Every function is pure and deterministic. Batch work runs with the GIL released. Bad input raises
``ValueError`` whose message starts with the argument's name (``"texts[3]: expected str, got int"``); an
allocation the machine refuses raises ``MemoryError`` (never an abort of the process).

What is quadratic in the number of candidates is limited to ``MAX_CANDIDATES`` of them; everything else
is linear (or n log n) in the input, whatever its size.
"""

from collections.abc import Mapping, Sequence
from typing import Literal, final

__all__ = [
    "BUILD",
    "MAX_CANDIDATES",
    "MINHASH_AUTO_COST_RATIO",
    "MINHASH_AUTO_MIN_N",
    "Aggregate",
    "Ballot",
    "Centrality",
    "Clusters",
    "__version__",
    "aggregate",
    "answer_key",
    "answer_keys",
    "centrality",
    "dedup_exact",
    "dedup_near",
    "fingerprint",
    "kendall_w",
    "mmr_top_k",
    "normalize",
    "similarity_matrix",
    "top_k",
]

__version__: str
BUILD: Literal["debug", "release"]
"""The Cargo profile the extension was built with."""

_Shingle = Literal["word", "char"]
_DedupMethod = Literal["auto", "exact", "minhash"]
_AggregationMethod = Literal["mean", "zmean", "borda", "rrf", "copeland", "bradley_terry"]

MAX_CANDIDATES: int
"""Most candidates one call compares pairwise (1024): ``n`` of ``aggregate`` and ``kendall_w``, the
candidate indices a ``Ballot`` can name (``0..MAX_CANDIDATES``), and the side of every similarity matrix
(``similarity_matrix``, ``dedup_near(with_matrix=True)``, ``centrality``, ``mmr_top_k``). Past it those
raise ``ValueError`` before reading the items."""

MINHASH_AUTO_MIN_N: int
"""``dedup_near(method="auto")`` never uses MinHash below this many texts."""

MINHASH_AUTO_COST_RATIO: float
"""From ``MINHASH_AUTO_MIN_N`` texts, ``auto`` uses MinHash when verifying the exact join's candidate pairs
would cost more than this many times building MinHash signatures (both counted in shingle visits)."""

def normalize(text: str) -> str:
    """NFKC, then full Unicode case folding, then every run of non-alphanumeric characters (markdown,
    punctuation, symbols, whitespace) becomes one space; leading/trailing spaces are dropped."""

def fingerprint(text: str) -> int:
    """128-bit XXH3 hash of ``normalize(text)`` (UTF-8), as a non-negative int."""

def dedup_exact(texts: Sequence[str]) -> Clusters:
    """Cluster texts whose normalized forms are identical (compared by 128-bit fingerprint). Any number of
    texts; time and memory are linear in them."""

def dedup_near(
    texts: Sequence[str],
    *,
    threshold: float = 0.8,
    shingle: _Shingle = "word",
    ngram: int = 3,
    method: _DedupMethod = "auto",
    with_matrix: bool = False,
    num_perm: int = 128,
    seed: int = 0,
) -> Clusters:
    """Union-find clusters of texts whose shingle-set Jaccard similarity is >= ``threshold``.

    Shingles: word ``ngram``-grams of the normalized tokens, or character ``ngram``-grams of the
    normalized string; a text shorter than ``ngram`` contributes its whole token list (or string) as one
    shingle; an empty normalized text has no shingles. Jaccard(empty, empty) = 1, Jaccard(empty, other) = 0.

    ``method="exact"`` finds exactly the pairs an all-pairs comparison would, but computes Jaccard
    only for pairs that pass a size filter and share a shingle in their prefixes (prefix filtering).
    ``"minhash"`` builds ``num_perm``-bin one-permutation MinHash signatures (with densification) and LSH
    bands chosen for ``threshold``, then verifies every candidate pair with exact Jaccard, so it never
    reports a pair below ``threshold`` but may miss some. Where no band shape catches a pair at exactly
    ``threshold`` with probability >= 0.99 (thresholds below about 0.04), it would miss pairs, so the
    exact join runs instead. ``"auto"`` picks the cheaper of the two (see ``MINHASH_AUTO_COST_RATIO``).
    ``Clusters.method`` says which ran.

    ``with_matrix=True`` also returns the exact pairwise Jaccard matrix (diagonal 1.0), for at most
    ``MAX_CANDIDATES`` texts. Without it any number of texts is accepted, and memory stays linear in the
    input: texts with identical shingle sets are joined by hash before any pair is compared, and candidate
    pairs are verified as they are found, never collected. (Time can still be quadratic for ``"exact"`` on
    many texts that share their rarest shingles.)
    """

def similarity_matrix(
    texts: Sequence[str], *, shingle: _Shingle = "word", ngram: int = 3
) -> list[list[float]]:
    """Exact pairwise Jaccard similarity of the texts' shingle sets (diagonal 1.0), for at most
    ``MAX_CANDIDATES`` texts."""

def answer_key(text: str) -> str | None:
    """The final answer a math or multiple-choice response commits to, canonicalized, or None.

    Looked for in this order: the last ``\\boxed{...}`` whose braces balance and that holds something;
    the first sentence after the last "answer is" / "answer:" (a choice letter, else its first number,
    else its normalized text); the last number in the text. Numbers lose thousands separators, a leading
    "+", leading zeros and trailing fractional zeros ("1,250.50" -> "1250.5", "-0" -> "0"); a lone capital
    letter A-J, bare or in parentheses, is a choice ("(C)" -> "C"); other text is ``normalize``d.
    """

def answer_keys(texts: Sequence[str]) -> list[str | None]:
    """``answer_key`` of each text."""

@final
class Clusters:
    """Clusters in order of their first member; each cluster sorted; representative = first member."""

    @property
    def clusters(self) -> list[list[int]]: ...
    @property
    def representatives(self) -> list[int]: ...
    @property
    def labels(self) -> list[int]:
        """Cluster number of each text."""
    @property
    def method(self) -> str:
        """ "hash" for dedup_exact; "exact" or "minhash" for dedup_near."""
    @property
    def matrix(self) -> list[list[float]] | None: ...
    @property
    def pairs_compared(self) -> int:
        """How many pairs had their exact Jaccard computed to find the clusters (after the filters)."""
    @property
    def removed(self) -> int:
        """Texts that are not representatives."""
    def __len__(self) -> int: ...

@final
class Ballot:
    """One judge's verdict over the candidates it saw (a partial ballot may skip some).

    ``scores`` maps candidate index -> score, higher is better. ``ranking`` lists candidate indices best
    first. Give either or both; with both, they must name the same candidates, the ranking orders them
    for rank-based methods and the scores feed the score-based ones. ``weight`` > 0 scales this ballot.
    Candidates are indices in ``0..MAX_CANDIDATES``, so a ballot names at most ``MAX_CANDIDATES``.
    """

    def __new__(
        cls,
        *,
        scores: Mapping[int, float] | None = None,
        ranking: Sequence[int] | None = None,
        weight: float = 1.0,
    ) -> Ballot: ...
    @property
    def scores(self) -> dict[int, float] | None: ...
    @property
    def ranking(self) -> list[int] | None: ...
    @property
    def weight(self) -> float: ...
    @property
    def candidates(self) -> list[int]:
        """The candidates this ballot saw, best first (ties by index)."""

@final
class Aggregate:
    """Ballots combined over ``n`` candidates.

    ``ranking`` orders all n candidates by: aggregate score, Copeland score, mean raw score, number of
    ballots that saw the candidate (all descending), then index ascending. NaN (a candidate no ballot saw,
    or a raw score no ballot gave) ranks lowest.
    """

    @property
    def method(self) -> str: ...
    @property
    def scores(self) -> list[float]: ...
    @property
    def ranking(self) -> list[int]: ...
    @property
    def copeland(self) -> list[float]:
        """Pairwise wins + half the ties, over pairs some ballot compared (weighted majority)."""
    @property
    def mean_score(self) -> list[float]:
        """Weighted mean raw score over the ballots that scored the candidate (NaN if none)."""
    @property
    def seen(self) -> list[int]:
        """Ballots that saw each candidate."""
    @property
    def kendall_w(self) -> float | None:
        """Kendall's W (tie-corrected) over the candidates every ballot saw; None if undefined."""
    @property
    def iterations(self) -> int:
        """MM iterations Bradley-Terry ran (0 for other methods)."""
    def top(self, k: int) -> list[int]:
        """The first k of ``ranking``."""

def aggregate(
    ballots: Sequence[Ballot],
    n: int,
    *,
    method: _AggregationMethod = "borda",
    rrf_k: float = 60.0,
    bt_prior: float = 0.5,
    bt_tol: float = 1e-9,
    bt_max_iter: int = 1000,
) -> Aggregate:
    """Combine ballots over candidates ``0..n``, ``1 <= n <= MAX_CANDIDATES``.

    - ``mean``: weighted mean of raw scores (every ballot needs scores).
    - ``zmean``: weighted mean of per-ballot z-scores (a ballot with zero spread gives 0 to all).
    - ``borda``: per ballot, (candidates beaten + half the ties) / (seen - 1) (0.5 if it saw one),
      then the weighted mean over ballots that saw the candidate, so partial ballots are comparable.
    - ``rrf``: sum over ballots of weight / (rrf_k + rank), rank 1-based, tied ranks averaged.
    - ``copeland``: the Copeland score.
    - ``bradley_terry``: log-strength fitted by the MM algorithm on weighted pairwise outcomes
      (a tie counts half a win each way), with ``bt_prior`` pseudo-wins each way on every pair of seen
      candidates, until no centred log-strength can move by ``bt_tol`` (the log of the spread of the
      new/old strength ratios is below it) or after ``bt_max_iter`` sweeps.
      Strengths are centred to mean log-strength 0.

    Candidates no ballot saw get NaN. Time is linear in the ballots' entries except for the pairwise
    table (Copeland, and Bradley-Terry's input), which costs m² / 2 per ballot of m candidates, and each
    Bradley-Terry sweep, which visits every pair of candidates some ballot saw.
    """

def kendall_w(ballots: Sequence[Ballot], n: int) -> float | None:
    """Kendall's W of the ballots (see ``Aggregate.kendall_w``)."""

def top_k(scores: Sequence[float], k: int) -> list[int]:
    """Indices of the k highest scores, best first, ties by lower index."""

def mmr_top_k(
    scores: Sequence[float],
    similarity: Sequence[Sequence[float]],
    k: int,
    *,
    lambda_: float = 0.7,
) -> list[int]:
    """Maximal marginal relevance: the best score first, then repeatedly the candidate maximizing
    lambda_*s - (1-lambda_)*(max similarity to those already picked).

    Scores are min-max scaled to [0, 1] first (all equal -> all 1), so ``lambda_`` means the same for
    every aggregation method. Ties go to the lower index. At most ``MAX_CANDIDATES`` candidates.
    """

@final
class Centrality:
    @property
    def scores(self) -> list[float]:
        """Mean similarity of each candidate to the others (0.0 when n = 1)."""
    @property
    def ranking(self) -> list[int]: ...

def centrality(similarity: Sequence[Sequence[float]]) -> Centrality:
    """Consensus centrality: rank candidates by mean similarity to the others, ties by lower index.
    At most ``MAX_CANDIDATES`` rows."""
