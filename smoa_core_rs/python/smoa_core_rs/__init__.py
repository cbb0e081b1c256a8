"""smoa_core_rs: the exact, deterministic primitives of Sparse Mixture-of-Agents, in Rust.

Deduplicate candidate answers (exact and near-duplicate), extract answer keys for voting, combine
judges' ballots, pick the top k (plain or MMR) and rank by consensus centrality. See ``_core.pyi``
for the full contract of each function.
"""

from smoa_core_rs._core import (
    BUILD,
    MAX_CANDIDATES,
    MINHASH_AUTO_COST_RATIO,
    MINHASH_AUTO_MIN_N,
    Aggregate,
    Ballot,
    Centrality,
    Clusters,
    __version__,
    aggregate,
    answer_key,
    answer_keys,
    centrality,
    dedup_exact,
    dedup_near,
    fingerprint,
    kendall_w,
    mmr_top_k,
    normalize,
    similarity_matrix,
    top_k,
)

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
