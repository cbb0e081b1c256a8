//! Any texts and options: dedup and similarity return Ok or an error, clusters partition the texts, and
//! the exact join finds exactly the clusters of all pairs at or above the threshold.
#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use smoa_core_rs::clusters::{dedup_exact, dedup_near, Clusters, Method, NearMethod, NearOptions};
use smoa_core_rs::shingle::ShingleKind;
use smoa_core_rs::similarity::similarity_matrix;

#[derive(Arbitrary, Debug)]
struct Input {
    texts: Vec<String>,
    copies: u8,
    threshold: f64,
    char: bool,
    ngram: u8,
    method: u8,
    with_matrix: bool,
    num_perm: u16,
    seed: u64,
}

fn check_partition(c: &Clusters, n: usize) {
    assert_eq!(c.labels.len(), n);
    let mut all: Vec<usize> = c.clusters.iter().flatten().copied().collect();
    all.sort_unstable();
    assert_eq!(all, (0..n).collect::<Vec<_>>());
    for (k, cluster) in c.clusters.iter().enumerate() {
        assert!(cluster.windows(2).all(|w| w[0] < w[1]) && cluster.iter().all(|&i| c.labels[i] == k));
    }
}

/// Clusters of the pairs at or above the threshold, by repeated relabelling.
fn components(m: &[Vec<f64>], threshold: f64) -> Vec<Vec<usize>> {
    let n = m.len();
    let mut label: Vec<usize> = (0..n).collect();
    let mut changed = true;
    while changed {
        changed = false;
        for i in 0..n {
            for j in 0..n {
                if m[i][j] >= threshold && label[i] != label[j] {
                    let low = label[i].min(label[j]);
                    (label[i], label[j]) = (low, low);
                    changed = true;
                }
            }
        }
    }
    (0..n).map(|r| (0..n).filter(|&i| label[i] == r).collect::<Vec<_>>()).filter(|c| !c.is_empty()).collect()
}

fuzz_target!(|input: Input| {
    // Repeating the texts makes identical sets, which the join handles apart from the rest.
    let copies = 1 + input.copies as usize % 4;
    let texts: Vec<String> = (0..copies).flat_map(|_| input.texts.iter().cloned()).collect();
    let n = texts.len();
    let shingle = if input.char { ShingleKind::Char } else { ShingleKind::Word };
    let method = [NearMethod::Auto, NearMethod::Exact, NearMethod::MinHash][input.method as usize % 3];
    let opts = NearOptions {
        threshold: input.threshold,
        shingle,
        ngram: input.ngram as usize,
        method,
        with_matrix: input.with_matrix,
        num_perm: input.num_perm as usize % 5000,
        seed: input.seed,
    };
    if let Ok(c) = dedup_exact(&texts) {
        check_partition(&c, n);
    }
    let matrix = similarity_matrix(&texts, shingle, opts.ngram);
    if let Ok(c) = dedup_near(&texts, &opts) {
        check_partition(&c, n);
        // Checked against all pairs where that stays cheap.
        if let (Ok(m), true) = (&matrix, n <= 64) {
            let exact = components(m, opts.threshold);
            let mut found = c.clusters.clone();
            found.sort();
            if c.method == Method::Exact {
                assert_eq!(found, exact);
            } else {
                assert!(found.iter().all(|f| exact.iter().any(|e| f.iter().all(|i| e.contains(i)))));
            }
            if let Some(with) = &c.matrix {
                assert_eq!(with, m);
            }
        }
    }
});
