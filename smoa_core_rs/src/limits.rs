//! The one size limit of the core: how many candidates a call may compare pairwise. Everything else grows
//! linearly (or n log n) with the input the caller already holds, so it needs no limit of its own.

/// Most candidates one call may compare pairwise: `n` of `aggregate` and `kendall_w` (so also the
/// candidates a `Ballot` can name), and the side of every similarity matrix (`similarity_matrix`,
/// `dedup_near(with_matrix=True)`, `centrality`, `mmr_top_k`).
///
/// Those are quadratic in it. At 1024 a matrix is 8 MiB of f64 in Rust and about 32 MiB as a Python list
/// of lists (a float object and a pointer per entry); the pairwise table of `aggregate` is 9 MiB and a
/// Bradley–Terry sweep half a million pairs. Twice that would be four times the memory, which is how a
/// judge call over 2,000 candidates grew by 177 MB. 1024 is four times the judge service's default cap
/// of 256 candidates, and far more answers than a mixture of agents ever compares.
pub const MAX_CANDIDATES: usize = 1024;
