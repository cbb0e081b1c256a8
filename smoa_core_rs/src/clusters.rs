//! Duplicate clusters: exact (same fingerprint) and near (Jaccard >= threshold), joined by union-find.

use crate::alloc;
use crate::disjoint_sets::DisjointSets;
use crate::error::{require_non_empty, require_unit_interval, CoreError, Result};
use crate::jaccard::{jaccard, sizes_rule_out};
use crate::minhash::{band_shape, Bands};
use crate::normalize::fingerprint;
use crate::prefix_filter;
use crate::shingle::{shingle_sets, validate_shingling, ShingleKind};
use crate::similarity::{jaccard_matrix, require_matrix_side};
use std::collections::HashMap;

/// `method="auto"` never uses MinHash below this many texts: the exact join is fast there and never
/// misses a pair.
pub const MINHASH_AUTO_MIN_N: usize = 64;

/// From `MINHASH_AUTO_MIN_N` texts, `auto` switches to MinHash when verifying the prefix filter's
/// candidates would cost more than this many times building the signatures. Both costs are counted in
/// shingle visits: a candidate pair costs |x| + |y| (one merge), signatures cost every shingle once plus
/// `num_perm` bins per text. Measured here, the exact join wins on short texts at every n tried (to 4000)
/// and MinHash on ~2 KB texts with shared boilerplate from n ≈ 100; the ratio of 4 sits between.
pub const MINHASH_AUTO_COST_RATIO: f64 = 4.0;

/// Candidate pairs `auto` keeps while deciding between the exact join and MinHash (8 MiB of them); past
/// that it only counts, and finds them again if the exact join wins.
const PAIR_BUFFER: usize = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Hash,
    Exact,
    MinHash,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Hash => "hash",
            Method::Exact => "exact",
            Method::MinHash => "minhash",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NearMethod {
    Auto,
    Exact,
    MinHash,
}

impl NearMethod {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "auto" => Some(Self::Auto),
            "exact" => Some(Self::Exact),
            "minhash" => Some(Self::MinHash),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Clusters {
    /// In order of first member; members ascending; the first member represents the cluster.
    pub clusters: Vec<Vec<usize>>,
    pub labels: Vec<usize>,
    pub method: Method,
    pub matrix: Option<Vec<Vec<f64>>>,
    pub pairs_compared: u64,
}

impl Clusters {
    pub fn representatives(&self) -> Vec<usize> {
        self.clusters.iter().map(|c| c[0]).collect()
    }

    pub fn removed(&self) -> usize {
        self.labels.len() - self.clusters.len()
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NearOptions {
    pub threshold: f64,
    pub shingle: ShingleKind,
    pub ngram: usize,
    pub method: NearMethod,
    pub with_matrix: bool,
    pub num_perm: usize,
    pub seed: u64,
}

impl Default for NearOptions {
    fn default() -> Self {
        Self {
            threshold: 0.8,
            shingle: ShingleKind::Word,
            ngram: 3,
            method: NearMethod::Auto,
            with_matrix: false,
            num_perm: 128,
            seed: 0,
        }
    }
}

/// Texts whose normalized forms are identical, by 128-bit fingerprint.
pub fn dedup_exact<S: AsRef<str>>(texts: &[S]) -> Result<Clusters> {
    require_non_empty("texts", texts)?;
    let mut sets = DisjointSets::new(texts.len())?;
    let mut first: HashMap<u128, usize> = HashMap::new();
    first
        .try_reserve(texts.len())
        .map_err(|_| CoreError::out_of_memory("texts", texts.len() as u128 * 32))?;
    for (i, t) in texts.iter().enumerate() {
        let first_seen = *first.entry(fingerprint(t.as_ref())).or_insert(i);
        sets.union(first_seen, i);
    }
    clusters_of(texts.len(), |i| i, sets, Method::Hash, 0)
}

/// Clusters of `n` texts, text `i` being item `item(i)` of `sets`, numbered in order of first member.
fn clusters_of(
    n: usize,
    item: impl Fn(usize) -> usize,
    mut sets: DisjointSets,
    method: Method,
    pairs_compared: u64,
) -> Result<Clusters> {
    let mut labels = alloc::with_capacity("texts", n)?;
    let mut clusters: Vec<Vec<usize>> = Vec::new();
    let mut cluster_of_root: HashMap<usize, usize> = HashMap::new();
    for i in 0..n {
        let root = sets.find(item(i));
        let c = *cluster_of_root.entry(root).or_insert_with(|| {
            clusters.push(Vec::new());
            clusters.len() - 1
        });
        clusters[c].push(i);
        labels.push(c);
    }
    Ok(Clusters { clusters, labels, method, matrix: None, pairs_compared })
}

/// Texts whose shingle-set Jaccard similarity reaches the threshold, clustered transitively.
///
/// Memory stays linear in the input whatever the texts: identical sets are stored once and joined before any
/// pair is looked at, candidate pairs are verified as they are found (never collected), and MinHash keeps
/// band keys, not signatures. Only `with_matrix` is quadratic, and limited to `MAX_CANDIDATES` texts.
pub fn dedup_near<S: AsRef<str>>(texts: &[S], opts: &NearOptions) -> Result<Clusters> {
    dedup_near_buffering(texts, opts, PAIR_BUFFER)
}

/// `dedup_near` with `auto` keeping at most `pair_buffer` candidate pairs while it decides.
fn dedup_near_buffering<S: AsRef<str>>(
    texts: &[S],
    opts: &NearOptions,
    pair_buffer: usize,
) -> Result<Clusters> {
    require_non_empty("texts", texts)?;
    require_unit_interval("threshold", opts.threshold)?;
    validate_shingling(opts.ngram)?;
    if opts.num_perm == 0 || opts.num_perm > 4096 {
        return Err(CoreError::out_of_range("num_perm", "[1, 4096]", opts.num_perm));
    }
    let n = texts.len();
    if n > u32::MAX as usize {
        return Err(CoreError::too_many("texts", u32::MAX as usize, n, "texts are numbered in 32 bits"));
    }
    if opts.with_matrix {
        require_matrix_side("texts", n)?;
    }
    // Identical sets have Jaccard 1, so they belong together at any threshold. Joining them by hash first
    // means a thousand copies of one answer cost a thousand lookups, not half a million pairs.
    let sets = shingle_sets(texts, opts.shingle, opts.ngram)?;
    let distinct: Vec<&[u64]> = sets.distinct.iter().map(Vec::as_slice).collect();
    let d = distinct.len();
    let shape = band_shape(opts.num_perm, opts.threshold);
    let mut join = Join::new(&distinct, opts.threshold)?;
    let minhash = |join: &mut Join| -> Result<()> {
        let bands = Bands::of(&distinct, opts.num_perm, opts.seed, shape.expect("a band shape"))?;
        bands.for_each_bucket(|band, members| join.bucket(members, |x, y| bands.shared_before(band, x, y)))
    };
    let method = if opts.threshold == 0.0 {
        // Every pair reaches J >= 0: one cluster, nothing to compare.
        (1..d).for_each(|j| join.joined.union(0, j));
        Method::Exact
    } else if opts.method == NearMethod::MinHash && shape.is_some() {
        // Without a band shape (a threshold too low for LSH recall) MinHash would miss pairs: exact below.
        minhash(&mut join)?;
        Method::MinHash
    } else {
        // With `auto` from MINHASH_AUTO_MIN_N texts, the exact join runs only if verifying its candidates
        // stays within the cost ratio of MinHash. They are found before any is verified, so no
        // verification is wasted when MinHash wins: kept while they fit a bounded buffer, else only counted
        // and found again by a second pass that verifies as it goes.
        let auto = opts.method == NearMethod::Auto && shape.is_some() && n >= MINHASH_AUTO_MIN_N;
        if !auto {
            prefix_filter::for_each_candidate(&distinct, opts.threshold, usize::MAX, |i, j| join.pair(i, j))?;
            Method::Exact
        } else {
            let sign = distinct.iter().map(|s| s.len()).sum::<usize>() + d * opts.num_perm;
            let budget = (MINHASH_AUTO_COST_RATIO * sign as f64) as usize;
            let (mut kept, mut overflowed) = (Vec::new(), false);
            let fits = prefix_filter::for_each_candidate(&distinct, opts.threshold, budget, |i, j| {
                overflowed = overflowed || kept.len() == pair_buffer;
                if overflowed {
                    kept = Vec::new();
                } else {
                    kept.push((i as u32, j as u32));
                }
            })?;
            match (fits, overflowed) {
                (true, false) => kept.into_iter().for_each(|(i, j)| join.pair(i as usize, j as usize)),
                (true, true) => {
                    prefix_filter::for_each_candidate(&distinct, opts.threshold, usize::MAX, |i, j| {
                        join.pair(i, j)
                    })?;
                }
                (false, _) => minhash(&mut join)?,
            }
            if fits {
                Method::Exact
            } else {
                Method::MinHash
            }
        }
    };
    let compared = join.compared;
    let mut out = clusters_of(n, |i| sets.of_text[i], join.joined, method, compared)?;
    if opts.with_matrix {
        out.matrix = Some(jaccard_matrix(&sets)?);
    }
    Ok(out)
}

/// Verifies candidate pairs of distinct sets and joins the similar ones. A pair already in one cluster is
/// not verified: it could not change the clusters.
struct Join<'a> {
    distinct: &'a [&'a [u64]],
    threshold: f64,
    joined: DisjointSets,
    compared: u64,
}

impl<'a> Join<'a> {
    fn new(distinct: &'a [&'a [u64]], threshold: f64) -> Result<Self> {
        Ok(Self { distinct, threshold, joined: DisjointSets::new(distinct.len())?, compared: 0 })
    }

    fn similar(&mut self, x: usize, y: usize) -> bool {
        let (a, b) = (self.distinct[x], self.distinct[y]);
        if sizes_rule_out(a.len(), b.len(), self.threshold) {
            return false;
        }
        self.compared += 1;
        jaccard(a, b) >= self.threshold
    }

    fn pair(&mut self, x: usize, y: usize) {
        if !self.joined.same(x, y) && self.similar(x, y) {
            self.joined.union(x, y);
        }
    }

    /// Every pair of `members` is a candidate unless `offered_before` says another bucket had it. Members
    /// are kept grouped by cluster, and a newcomer is tried against each other group until one member is
    /// similar: a bucket of near-duplicates costs one verification per member, not one per pair.
    fn bucket(&mut self, members: &[u32], offered_before: impl Fn(usize, usize) -> bool) {
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for &y in members {
            let y = y as usize;
            let mut joined = Vec::new();
            for (g, group) in groups.iter().enumerate() {
                if self.joined.same(group[0], y) {
                    joined.push(g);
                    continue;
                }
                for &x in group {
                    if !offered_before(x, y) && self.similar(x, y) {
                        self.joined.union(x, y);
                        joined.push(g);
                        break;
                    }
                }
            }
            // The groups y joined are one cluster now: merge them, the smaller into the larger.
            let mut merged = vec![y];
            for g in joined.into_iter().rev() {
                let mut group = groups.swap_remove(g);
                if group.len() > merged.len() {
                    std::mem::swap(&mut group, &mut merged);
                }
                merged.extend(group);
            }
            groups.push(merged);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn words(seed: u64, count: usize) -> String {
        (0..count)
            .map(|i| format!("w{}", (seed * 7919 + i as u64 * 104_729) % 5000))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn exact_dedup_keeps_first_of_each_cluster() {
        let c = dedup_exact(&["Yes.", "no", "YES", "yes!", "No"]).unwrap();
        assert_eq!(c.clusters, vec![vec![0, 2, 3], vec![1, 4]]);
        assert_eq!(c.representatives(), vec![0, 1]);
        assert_eq!(c.labels, vec![0, 1, 0, 0, 1]);
        assert_eq!(c.removed(), 3);
    }

    #[test]
    fn near_dedup_joins_small_edits_only() {
        let base = words(1, 60);
        let edited = base.replacen("w", "x", 1);
        let other = words(2, 60);
        let c =
            dedup_near(&[base.as_str(), other.as_str(), edited.as_str()], &NearOptions::default()).unwrap();
        assert_eq!(c.clusters, vec![vec![0, 2], vec![1]]);
        assert_eq!(c.method, Method::Exact);
    }

    #[test]
    fn matrix_on_request() {
        let texts = ["a b c d", "a b c d", "x y z"];
        let opts = NearOptions { with_matrix: true, ..Default::default() };
        let m = dedup_near(&texts, &opts).unwrap().matrix.unwrap();
        assert_eq!(m[0][1], 1.0);
        assert_eq!(m[0][2], 0.0);
        assert_eq!(m[2][2], 1.0);
    }

    #[test]
    fn bad_arguments_are_named() {
        let empty: [&str; 0] = [];
        assert_eq!(dedup_near(&empty, &NearOptions::default()).unwrap_err().arg, "texts");
        let bad = NearOptions { threshold: 1.5, ..Default::default() };
        assert_eq!(dedup_near(&["a"], &bad).unwrap_err().arg, "threshold");
        let bad = NearOptions { threshold: f64::NAN, ..Default::default() };
        assert_eq!(dedup_near(&["a"], &bad).unwrap_err().arg, "threshold");
        let bad = NearOptions { ngram: 0, ..Default::default() };
        assert_eq!(dedup_near(&["a"], &bad).unwrap_err().arg, "ngram");
    }

    #[test]
    fn auto_picks_minhash_when_verifying_would_cost_more() {
        // Long answers that share boilerplate: the prefix filter finds many candidate pairs to verify.
        let boilerplate = words(9999, 40);
        let texts: Vec<String> = (0..300)
            .map(|i| {
                let own = format!("{boilerplate} {} {boilerplate}", words(i / 2, 200));
                if i % 2 == 0 {
                    own
                } else {
                    own.replacen(" w", " q", 1)
                }
            })
            .collect();
        let exact =
            dedup_near(&texts, &NearOptions { method: NearMethod::Exact, ..Default::default() }).unwrap();
        let auto = dedup_near(&texts, &NearOptions::default()).unwrap();
        assert_eq!(exact.method, Method::Exact);
        assert_eq!(auto.method, Method::MinHash);
        assert!(auto.pairs_compared < exact.pairs_compared);
        assert_eq!(auto.clusters, exact.clusters);
        // Short distinct texts: few candidates, so auto stays exact even at scale.
        let short: Vec<String> = (0..300).map(|i| words(i, 12)).collect();
        assert_eq!(dedup_near(&short, &NearOptions::default()).unwrap().method, Method::Exact);
    }

    #[test]
    fn auto_finds_the_same_clusters_when_its_pair_buffer_overflows() {
        // Short texts sharing their rarest shingle: many candidates, few of them similar.
        let texts: Vec<String> =
            (0..200).map(|i| format!("shared opening words {} {}", i % 7, i / 7)).collect();
        let opts = NearOptions { threshold: 0.5, ..Default::default() };
        let kept = dedup_near_buffering(&texts, &opts, usize::MAX).unwrap();
        let counted = dedup_near_buffering(&texts, &opts, 10).unwrap();
        assert_eq!(kept.method, Method::Exact);
        assert!(kept.pairs_compared > 10);
        assert_eq!(counted, kept);
    }

    fn permuted_clusters(c: &Clusters, perm: &[usize]) -> Vec<Vec<usize>> {
        let mut out: Vec<Vec<usize>> = c
            .clusters
            .iter()
            .map(|cl| {
                let mut v: Vec<usize> = cl.iter().map(|&i| perm[i]).collect();
                v.sort();
                v
            })
            .collect();
        out.sort();
        out
    }

    proptest! {
        #[test]
        fn clusters_are_invariant_under_permutation(
            picks in proptest::collection::vec((0u64..6, 0usize..3), 1..14),
            perm_seed in any::<u64>(),
        ) {
            // Texts drawn from 6 bases with up to 2 words edited, so near-duplicate clusters form.
            let texts: Vec<String> = picks.iter().map(|&(b, edits)| {
                let mut t = words(b, 25);
                for e in 0..edits { t = t.replacen(&format!("w{}", (b * 7919 + e as u64 * 104_729) % 5000), "edit", 1); }
                t
            }).collect();
            let n = texts.len();
            let mut perm: Vec<usize> = (0..n).collect();
            let mut s = perm_seed;
            for i in (1..n).rev() { s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407); perm.swap(i, (s >> 33) as usize % (i + 1)); }
            let mut shuffled = vec![String::new(); n];
            for i in 0..n { shuffled[perm[i]] = texts[i].clone(); }
            let opts = NearOptions { threshold: 0.7, ..Default::default() };
            let a = dedup_near(&texts, &opts).unwrap();
            let b = dedup_near(&shuffled, &opts).unwrap();
            let identity: Vec<usize> = (0..n).collect();
            prop_assert_eq!(permuted_clusters(&a, &perm), permuted_clusters(&b, &identity));
            let e1 = dedup_exact(&texts).unwrap();
            let e2 = dedup_exact(&shuffled).unwrap();
            prop_assert_eq!(permuted_clusters(&e1, &perm), permuted_clusters(&e2, &identity));
        }

        #[test]
        fn dedup_keeps_exactly_one_per_cluster(picks in proptest::collection::vec(0u64..5, 1..20)) {
            let texts: Vec<String> = picks.iter().map(|&b| words(b, 10)).collect();
            let c = dedup_exact(&texts).unwrap();
            let reps = c.representatives();
            let mut distinct: Vec<u64> = picks.clone();
            distinct.sort(); distinct.dedup();
            prop_assert_eq!(reps.len(), distinct.len());
            for (k, cluster) in c.clusters.iter().enumerate() {
                prop_assert_eq!(reps[k], cluster[0]);
                prop_assert!(cluster.iter().all(|&i| picks[i] == picks[cluster[0]]));
                prop_assert!(cluster.iter().all(|&i| c.labels[i] == k));
            }
        }
    }
}
