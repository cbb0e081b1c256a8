//! Exact candidate generation for a Jaccard self-join by prefix filtering (Bayardo et al., "Scaling up
//! all pairs similarity search", 2007): with every set sorted in one global order, two sets with
//! J >= t must share an element among the first |x| - ceil(t*|x|) + 1 of each. Only pairs sharing a
//! prefix element are verified, so the result equals the all-pairs comparison without comparing all pairs.
//! The global order here is the shingle hash itself, which the sets are already sorted by.

use crate::alloc;
use crate::error::Result;
use std::collections::HashMap;

/// Length of the prefix of a set of `size` elements that any partner with J >= `threshold` must hit.
/// Rounding errs toward a longer prefix, which can only add candidates, never lose one.
fn prefix_len(size: usize, threshold: f64) -> usize {
    let min_overlap = (threshold * size as f64 - 1e-9).ceil().max(0.0) as usize;
    (size + 1).saturating_sub(min_overlap).min(size)
}

/// Calls `visit(i, j)` once for every pair i < j of non-empty sets whose prefixes share an element, for j
/// ascending; pairs involving an empty set are left to the caller (J(empty, empty) = 1, J(empty, other) = 0).
/// Stops, returning false, as soon as verifying the pairs found so far would visit more than `budget`
/// shingles (|x| + |y| per pair): frequent shared shingles can make the candidates quadratic, and a caller
/// with a cheaper plan should not pay for finding them all.
///
/// Nothing quadratic is stored: the memory is the postings (one entry per prefix element) and a mark per
/// set, however many pairs there are.
pub fn for_each_candidate<S: AsRef<[u64]>>(
    sets: &[S],
    threshold: f64,
    budget: usize,
    mut visit: impl FnMut(usize, usize),
) -> Result<bool> {
    let mut postings: HashMap<u64, Vec<u32>> = HashMap::new();
    // The last j that paired with each i, so each pair is visited once per j.
    let mut hit = alloc::filled("texts", sets.len(), u32::MAX)?;
    let mut cost = 0usize;
    for (j, set) in sets.iter().enumerate() {
        let set = set.as_ref();
        for &token in &set[..prefix_len(set.len(), threshold)] {
            let list = postings.entry(token).or_default();
            for &i in list.iter() {
                if hit[i as usize] != j as u32 {
                    hit[i as usize] = j as u32;
                    cost = cost.saturating_add(sets[i as usize].as_ref().len() + set.len());
                    if cost > budget {
                        return Ok(false);
                    }
                    visit(i as usize, j);
                }
            }
            alloc::push(list, "texts", j as u32)?;
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jaccard::jaccard;
    use proptest::prelude::*;

    fn candidate_pairs(sets: &[Vec<u64>], threshold: f64) -> Vec<(u32, u32)> {
        let mut pairs = Vec::new();
        assert!(
            for_each_candidate(sets, threshold, usize::MAX, |i, j| pairs.push((i as u32, j as u32))).unwrap()
        );
        pairs
    }

    #[test]
    fn the_budget_stops_the_search() {
        let sets: Vec<Vec<u64>> = (0..10).map(|_| vec![1, 2]).collect();
        let mut visited = 0;
        assert!(!for_each_candidate(&sets, 0.8, 4 * 5, |_, _| visited += 1).unwrap());
        assert_eq!(visited, 5);
        assert_eq!(candidate_pairs(&sets, 0.8).len(), 45);
    }

    #[test]
    fn prefix_lengths() {
        assert_eq!(prefix_len(10, 0.8), 3);
        assert_eq!(prefix_len(5, 0.8), 2);
        assert_eq!(prefix_len(5, 1.0), 1);
        assert_eq!(prefix_len(5, 0.0), 5);
        assert_eq!(prefix_len(0, 0.8), 0);
    }

    proptest! {
        #[test]
        fn never_misses_a_pair_at_threshold(
            raw in proptest::collection::vec(proptest::collection::btree_set(0u64..40, 1..25), 2..20),
            threshold in 0.05f64..=1.0,
        ) {
            let sets: Vec<Vec<u64>> = raw.into_iter().map(|s| s.into_iter().collect()).collect();
            let found = candidate_pairs(&sets, threshold);
            for i in 0..sets.len() {
                for j in i + 1..sets.len() {
                    if jaccard(&sets[i], &sets[j]) >= threshold {
                        prop_assert!(found.contains(&(i as u32, j as u32)), "missed ({i}, {j})");
                    }
                }
            }
        }
    }
}
