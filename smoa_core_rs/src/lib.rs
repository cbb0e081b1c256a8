//! smoa_core_rs: the exact, deterministic primitives of Sparse Mixture-of-Agents.
//!
//! Pure Rust; the Python binding lives in `python.rs` behind the `python` feature, so `cargo test` needs
//! no interpreter.

pub mod aggregate;
pub mod alloc;
pub mod answer_key;
pub mod ballot;
pub mod bradley_terry;
pub mod centrality;
pub mod clusters;
pub mod disjoint_sets;
pub mod error;
pub mod jaccard;
pub mod kendall;
pub mod limits;
pub mod minhash;
pub mod normalize;
pub mod pairwise;
pub mod pow2;
pub mod prefix_filter;
pub mod select;
pub mod shingle;
pub mod similarity;

#[cfg(feature = "python")]
mod python;
