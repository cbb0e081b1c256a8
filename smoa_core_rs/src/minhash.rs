//! One-permutation MinHash with optimal densification (Shrivastava 2017) and LSH banding: the candidate
//! generator that keeps near-duplicate detection sub-quadratic for large n. Candidates are only
//! candidates: the caller verifies each with exact Jaccard.

/// A candidate pair must survive banding with at least this probability when its Jaccard is exactly the
/// threshold; the band shape is the one with the most rows per band (fewest false candidates) that does.
pub const TARGET_RECALL_AT_THRESHOLD: f64 = 0.99;

/// SplitMix64's finalizer: a cheap bijective mixer, so bins and values come from independent-looking bits.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const EMPTY: u64 = u64::MAX;

/// `bins`-bin signature of a shingle set. An empty set gets all-`EMPTY` bins, so empty sets collide with
/// each other only (and Jaccard(empty, empty) = 1 agrees).
pub fn signature(set: &[u64], bins: usize, seed: u64) -> Vec<u64> {
    let mut sig = vec![EMPTY; bins];
    for &h in set {
        let x = mix(h ^ seed);
        // Fast range reduction from the high bits; the low bits stay the in-bin value.
        let bin = (((x >> 32) * bins as u64) >> 32) as usize;
        let v = x & 0xffff_ffff;
        if v < sig[bin] {
            sig[bin] = v;
        }
    }
    if set.is_empty() {
        return sig;
    }
    // Optimal densification: an empty bin borrows from the first non-empty bin of its own probe
    // sequence, which is the same for every set, so two sets agree on it exactly as often as they agree
    // on the borrowed bin.
    let filled = sig.clone();
    for (j, slot) in sig.iter_mut().enumerate() {
        if filled[j] != EMPTY {
            continue;
        }
        let mut attempt = 0u64;
        loop {
            attempt += 1;
            let probe = mix(seed ^ ((j as u64) << 32) ^ attempt);
            let b = (((probe >> 32) * bins as u64) >> 32) as usize;
            if filled[b] != EMPTY {
                *slot = filled[b];
                break;
            }
        }
    }
    sig
}

/// (bands, rows) for `bins` bins at `threshold`, or None when no shape reaches the target recall (very
/// low thresholds), in which case only an exact comparison is safe.
pub fn band_shape(bins: usize, threshold: f64) -> Option<(usize, usize)> {
    (1..=bins).rev().find_map(|rows| {
        let bands = bins / rows;
        let hit = 1.0 - (1.0 - threshold.powi(rows as i32)).powi(bands as i32);
        (hit >= TARGET_RECALL_AT_THRESHOLD).then_some((bands, rows))
    })
}

/// Pairs (i < j) that share at least one band, sorted and unique.
pub fn candidate_pairs(signatures: &[Vec<u64>], bands: usize, rows: usize) -> Vec<(u32, u32)> {
    let mut pairs: Vec<u64> = Vec::new();
    let mut keyed: Vec<(u64, u32)> = Vec::with_capacity(signatures.len());
    for band in 0..bands {
        keyed.clear();
        for (i, sig) in signatures.iter().enumerate() {
            let rows_of_band = &sig[band * rows..(band + 1) * rows];
            let key = rows_of_band.iter().fold(band as u64, |acc, &v| mix(acc ^ v));
            keyed.push((key, i as u32));
        }
        keyed.sort_unstable();
        for bucket in keyed.chunk_by(|a, b| a.0 == b.0) {
            for (x, a) in bucket.iter().enumerate() {
                for b in &bucket[x + 1..] {
                    pairs.push(((a.1 as u64) << 32) | b.1 as u64);
                }
            }
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    pairs.into_iter().map(|p| ((p >> 32) as u32, p as u32)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jaccard::jaccard;

    #[test]
    fn band_shape_reaches_target_recall() {
        let (b, r) = band_shape(128, 0.8).unwrap();
        assert_eq!((b, r), (21, 6));
        assert!(band_shape(128, 0.0).is_none());
        assert_eq!(band_shape(128, 1.0), Some((1, 128)));
    }

    #[test]
    fn identical_sets_share_signatures_and_disjoint_ones_rarely_match() {
        let a: Vec<u64> = (0..40).collect();
        let b: Vec<u64> = (1000..1040).collect();
        assert_eq!(signature(&a, 128, 7), signature(&a, 128, 7));
        let (sa, sb) = (signature(&a, 128, 7), signature(&b, 128, 7));
        let agree = sa.iter().zip(&sb).filter(|(x, y)| x == y).count();
        assert!(agree < 8, "disjoint sets agreed on {agree} bins");
    }

    #[test]
    fn signature_agreement_estimates_jaccard() {
        // 60 shared of 100 total -> J = 0.6; densified OPH agreement should be close.
        let a: Vec<u64> = (0..80).map(mix).collect();
        let mut b: Vec<u64> = (20..100).map(mix).collect();
        let mut a_sorted = a.clone();
        a_sorted.sort_unstable();
        b.sort_unstable();
        let truth = jaccard(&a_sorted, &b);
        let (sa, sb) = (signature(&a_sorted, 256, 1), signature(&b, 256, 1));
        let est = sa.iter().zip(&sb).filter(|(x, y)| x == y).count() as f64 / 256.0;
        assert!((est - truth).abs() < 0.12, "estimate {est} vs truth {truth}");
    }

    #[test]
    fn candidate_pairs_find_identical_signatures() {
        let sigs = vec![vec![1, 2, 3, 4], vec![9, 9, 9, 9], vec![1, 2, 3, 4]];
        assert_eq!(candidate_pairs(&sigs, 2, 2), vec![(0, 2)]);
    }
}
