//! One-permutation MinHash with optimal densification (Shrivastava 2017) and LSH banding: the candidate
//! generator that keeps near-duplicate detection sub-quadratic for large n. Candidates are only
//! candidates: the caller verifies each with exact Jaccard.

use crate::alloc;
use crate::error::Result;

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

/// The LSH band keys of a collection of sets: what is kept of their signatures. A signature lives only while
/// its keys are taken, so the memory is a key per set and band rather than `bins` values per set.
pub struct Bands {
    /// keys[band * count + i]
    keys: Vec<u64>,
    count: usize,
    bands: usize,
}

impl Bands {
    pub fn of<S: AsRef<[u64]>>(
        sets: &[S],
        bins: usize,
        seed: u64,
        (bands, rows): (usize, usize),
    ) -> Result<Self> {
        let count = sets.len();
        let size = count.saturating_mul(bands);
        let mut keys = alloc::filled("texts", size, 0u64)?;
        for (i, set) in sets.iter().enumerate() {
            let sig = signature(set.as_ref(), bins, seed);
            for band in 0..bands {
                let rows_of_band = &sig[band * rows..(band + 1) * rows];
                keys[band * count + i] = rows_of_band.iter().fold(band as u64, |acc, &v| mix(acc ^ v));
            }
        }
        Ok(Self { keys, count, bands })
    }

    fn key(&self, band: usize, i: usize) -> u64 {
        self.keys[band * self.count + i]
    }

    /// Whether sets `x` and `y` already share one of the bands before `band`: then that band offered them.
    pub fn shared_before(&self, band: usize, x: usize, y: usize) -> bool {
        (0..band).any(|b| self.key(b, x) == self.key(b, y))
    }

    /// Calls `visit(band, members)` for every group of two or more sets sharing a band's key, members
    /// ascending. Every pair in a group is a candidate; a pair may be offered by several bands.
    pub fn for_each_bucket(&self, mut visit: impl FnMut(usize, &[u32])) -> Result<()> {
        let mut keyed: Vec<(u64, u32)> = alloc::with_capacity("texts", self.count)?;
        let mut members: Vec<u32> = Vec::new();
        for band in 0..self.bands {
            keyed.clear();
            keyed.extend((0..self.count).map(|i| (self.key(band, i), i as u32)));
            keyed.sort_unstable();
            for bucket in keyed.chunk_by(|a, b| a.0 == b.0).filter(|b| b.len() > 1) {
                members.clear();
                members.extend(bucket.iter().map(|m| m.1));
                visit(band, &members);
            }
        }
        Ok(())
    }
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
    fn buckets_group_equal_band_keys() {
        let sets: Vec<Vec<u64>> = vec![(0..40).collect(), (1000..1040).collect(), (0..40).collect()];
        let bands = Bands::of(&sets, 16, 3, (4, 4)).unwrap();
        let mut buckets = Vec::new();
        bands.for_each_bucket(|band, members| buckets.push((band, members.to_vec()))).unwrap();
        assert_eq!(buckets, (0..4).map(|b| (b, vec![0, 2])).collect::<Vec<_>>());
        assert!(!bands.shared_before(0, 0, 2) && bands.shared_before(1, 0, 2));
    }

    #[test]
    fn impossible_key_tables_are_errors() {
        let sets = vec![vec![1u64]; 3];
        assert!(Bands::of(&sets, 4, 0, (usize::MAX / 2, 1)).err().is_some_and(|e| e.is_out_of_memory()));
    }
}
