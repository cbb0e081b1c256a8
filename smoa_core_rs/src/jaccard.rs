//! Exact Jaccard similarity of sorted shingle sets.

/// |A ∩ B| / |A ∪ B| by a merge of the two sorted sets; two empty sets are identical (1.0).
pub fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    common as f64 / (a.len() + b.len() - common) as f64
}

/// Whether the set sizes alone already rule out `jaccard(a, b) >= threshold` (J <= min/max).
pub fn sizes_rule_out(a: usize, b: usize, threshold: f64) -> bool {
    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
    hi > 0 && (lo as f64) < threshold * hi as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_values() {
        assert_eq!(jaccard(&[1, 2, 3], &[2, 3, 4]), 0.5);
        assert_eq!(jaccard(&[], &[]), 1.0);
        assert_eq!(jaccard(&[], &[1]), 0.0);
    }

    proptest! {
        #[test]
        fn symmetric_bounded_and_size_filter_is_safe(
            a in proptest::collection::btree_set(0u64..50, 0..30),
            b in proptest::collection::btree_set(0u64..50, 0..30),
            t in 0.0f64..=1.0,
        ) {
            let a: Vec<u64> = a.into_iter().collect();
            let b: Vec<u64> = b.into_iter().collect();
            let j = jaccard(&a, &b);
            prop_assert!((0.0..=1.0).contains(&j));
            prop_assert_eq!(j, jaccard(&b, &a));
            if sizes_rule_out(a.len(), b.len(), t) {
                prop_assert!(j < t);
            }
        }
    }
}
