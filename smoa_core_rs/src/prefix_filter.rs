//! Exact candidate generation for a Jaccard self-join by prefix filtering (Bayardo et al., "Scaling up
//! all pairs similarity search", 2007): with every set sorted in one global order, two sets with
//! J >= t must share an element among the first |x| - ceil(t*|x|) + 1 of each. Only pairs sharing a
//! prefix element are verified, so the result equals the all-pairs comparison without comparing all pairs.
//! The global order here is the shingle hash itself, which the sets are already sorted by.

/// Length of the prefix of a set of `size` elements that any partner with J >= `threshold` must hit.
/// Rounding errs toward a longer prefix, which can only add candidates, never lose one.
fn prefix_len(size: usize, threshold: f64) -> usize {
    let min_overlap = (threshold * size as f64 - 1e-9).ceil().max(0.0) as usize;
    (size + 1).saturating_sub(min_overlap).min(size)
}

/// Pairs (i < j) of non-empty sets whose prefixes share an element, sorted and unique. Pairs involving an
/// empty set are not produced: the caller decides them (J(empty, empty) = 1, J(empty, other) = 0).
pub fn candidate_pairs(sets: &[Vec<u64>], threshold: f64) -> Vec<(u32, u32)> {
    candidate_pairs_within(sets, threshold, usize::MAX).expect("unbounded")
}

/// As `candidate_pairs`, but gives up (None) as soon as verifying the pairs found so far would visit more
/// than `budget` shingles (|x| + |y| per pair): frequent shared shingles can make the candidates
/// quadratic, and a caller with a cheaper plan should not pay for finding them all.
pub fn candidate_pairs_within(sets: &[Vec<u64>], threshold: f64, budget: usize) -> Option<Vec<(u32, u32)>> {
    let mut postings: std::collections::HashMap<u64, Vec<u32>> = std::collections::HashMap::new();
    let mut pairs: Vec<u64> = Vec::new();
    let mut hit = vec![u32::MAX; sets.len()];
    let mut cost = 0usize;
    for (j, set) in sets.iter().enumerate() {
        for &token in &set[..prefix_len(set.len(), threshold)] {
            let list = postings.entry(token).or_default();
            for &i in list.iter() {
                // `hit` remembers the last j that paired with i, so each pair is emitted once per j.
                if hit[i as usize] != j as u32 {
                    hit[i as usize] = j as u32;
                    pairs.push(((i as u64) << 32) | j as u64);
                    cost += sets[i as usize].len() + set.len();
                }
            }
            if cost > budget {
                return None;
            }
            list.push(j as u32);
        }
    }
    pairs.sort_unstable();
    Some(pairs.into_iter().map(|p| ((p >> 32) as u32, p as u32)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jaccard::jaccard;
    use proptest::prelude::*;

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
