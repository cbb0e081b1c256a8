//! Duplicate clusters: exact (same fingerprint) and near (Jaccard >= threshold), joined by union-find.

use crate::error::{require_non_empty, require_unit_interval, CoreError, Result};
use crate::jaccard::{jaccard, similarity_matrix, sizes_rule_out};
use crate::minhash::{self, band_shape, signature};
use crate::normalize::fingerprint;
use crate::prefix_filter;
use crate::shingle::{shingles, ShingleKind};
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

/// Union-find whose root is always the smallest index, so a cluster's representative is its first text.
struct DisjointSets(Vec<usize>);

impl DisjointSets {
    fn new(n: usize) -> Self {
        Self((0..n).collect())
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.0[x] != x {
            self.0[x] = self.0[self.0[x]];
            x = self.0[x];
        }
        x
    }

    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.0[hi] = lo;
        }
    }

    fn into_clusters(mut self, method: Method, pairs_compared: u64) -> Clusters {
        let n = self.0.len();
        let mut labels = vec![0; n];
        let mut clusters: Vec<Vec<usize>> = Vec::new();
        let mut cluster_of_root: HashMap<usize, usize> = HashMap::new();
        for (i, label) in labels.iter_mut().enumerate() {
            let root = self.find(i);
            let c = *cluster_of_root.entry(root).or_insert_with(|| {
                clusters.push(Vec::new());
                clusters.len() - 1
            });
            clusters[c].push(i);
            *label = c;
        }
        Clusters { clusters, labels, method, matrix: None, pairs_compared }
    }
}

/// Texts whose normalized forms are identical, by 128-bit fingerprint.
pub fn dedup_exact<S: AsRef<str>>(texts: &[S]) -> Result<Clusters> {
    require_non_empty("texts", texts)?;
    let mut sets = DisjointSets::new(texts.len());
    let mut first: HashMap<u128, usize> = HashMap::with_capacity(texts.len());
    for (i, t) in texts.iter().enumerate() {
        let first_seen = *first.entry(fingerprint(t.as_ref())).or_insert(i);
        sets.union(first_seen, i);
    }
    Ok(sets.into_clusters(Method::Hash, 0))
}

pub fn shingle_sets<S: AsRef<str>>(texts: &[S], kind: ShingleKind, ngram: usize) -> Vec<Vec<u64>> {
    texts.iter().map(|t| shingles(t.as_ref(), kind, ngram)).collect()
}

pub fn validate_shingling(ngram: usize) -> Result<()> {
    if ngram == 0 {
        return Err(CoreError::out_of_range("ngram", "[1, ∞)", ngram));
    }
    Ok(())
}

/// Texts whose shingle-set Jaccard similarity reaches the threshold, clustered transitively.
pub fn dedup_near<S: AsRef<str>>(texts: &[S], opts: &NearOptions) -> Result<Clusters> {
    require_non_empty("texts", texts)?;
    require_unit_interval("threshold", opts.threshold)?;
    validate_shingling(opts.ngram)?;
    if opts.num_perm == 0 || opts.num_perm > 4096 {
        return Err(CoreError::out_of_range("num_perm", "[1, 4096]", opts.num_perm));
    }
    let n = texts.len();
    let sets = shingle_sets(texts, opts.shingle, opts.ngram);
    let shape = band_shape(opts.num_perm, opts.threshold);
    let mut uf = DisjointSets::new(n);
    let mut compared = 0u64;
    let mut join_if_similar = |i: usize, j: usize, uf: &mut DisjointSets| {
        if sizes_rule_out(sets[i].len(), sets[j].len(), opts.threshold) {
            return;
        }
        compared += 1;
        if jaccard(&sets[i], &sets[j]) >= opts.threshold {
            uf.union(i, j);
        }
    };
    // With `auto` from MINHASH_AUTO_MIN_N texts, the exact join's candidates are generated only while
    // verifying them stays within the cost ratio of MinHash; past it, MinHash runs instead.
    let auto_budget = match (opts.method, shape) {
        (NearMethod::Auto, Some(_)) if n >= MINHASH_AUTO_MIN_N => {
            let sign = sets.iter().map(Vec::len).sum::<usize>() + n * opts.num_perm;
            (MINHASH_AUTO_COST_RATIO * sign as f64) as usize
        }
        _ => usize::MAX,
    };
    let exact_candidates = match (opts.method, shape) {
        _ if opts.threshold == 0.0 => None,
        (NearMethod::MinHash, Some(_)) => None,
        _ => prefix_filter::candidate_pairs_within(&sets, opts.threshold, auto_budget),
    };
    // No band shape at this threshold (it is 0, or too low for LSH recall): MinHash would miss pairs.
    let use_minhash = shape.is_some()
        && match opts.method {
            NearMethod::MinHash => true,
            NearMethod::Auto => exact_candidates.is_none(),
            NearMethod::Exact => false,
        };
    let method = if use_minhash {
        let (bands, rows) = shape.expect("checked above");
        let sigs: Vec<Vec<u64>> = sets.iter().map(|s| signature(s, opts.num_perm, opts.seed)).collect();
        for (i, j) in minhash::candidate_pairs(&sigs, bands, rows) {
            join_if_similar(i as usize, j as usize, &mut uf);
        }
        Method::MinHash
    } else {
        match exact_candidates {
            // Every pair reaches J >= 0: one cluster, nothing to compare.
            None => (1..n).for_each(|j| uf.union(0, j)),
            Some(candidates) => {
                for (i, j) in candidates {
                    join_if_similar(i as usize, j as usize, &mut uf);
                }
            }
        }
        Method::Exact
    };
    // Empty shingle sets are identical to each other (J = 1) and share no element for a filter to find.
    let mut empties = (0..n).filter(|&i| sets[i].is_empty());
    if let Some(first) = empties.next() {
        empties.for_each(|j| uf.union(first, j));
    }
    let mut out = uf.into_clusters(method, compared);
    if opts.with_matrix {
        out.matrix = Some(similarity_matrix(&sets));
    }
    Ok(out)
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
