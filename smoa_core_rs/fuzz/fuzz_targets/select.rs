//! Any scores, matrix, k and lambda: top_k, mmr_top_k and centrality return Ok or an error, never panic,
//! and pick k distinct indices in range, the best score first.
#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use smoa_core_rs::centrality::centrality;
use smoa_core_rs::select::{mmr_top_k, top_k};

#[derive(Arbitrary, Debug)]
struct Input {
    scores: Vec<f64>,
    similarity: Vec<Vec<f64>>,
    k: i64,
    lambda: f64,
}

fn distinct_in_range(picked: &[usize], n: usize) -> bool {
    let mut sorted = picked.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    sorted.len() == picked.len() && picked.iter().all(|&i| i < n)
}

fuzz_target!(|input: Input| {
    let n = input.scores.len();
    if let Ok(picked) = top_k(&input.scores, input.k) {
        assert_eq!(picked.len() as i64, input.k);
        assert!(distinct_in_range(&picked, n));
        assert!(picked.windows(2).all(|w| input.scores[w[0]] >= input.scores[w[1]]));
    }
    if let Ok(picked) = mmr_top_k(&input.scores, &input.similarity, input.k, input.lambda) {
        assert_eq!(picked.len() as i64, input.k);
        assert!(distinct_in_range(&picked, n));
        if let Some(&first) = picked.first() {
            assert_eq!(first, top_k(&input.scores, 1).unwrap()[0]);
        }
    }
    if let Ok(c) = centrality(&input.similarity) {
        let mut order = c.ranking.clone();
        order.sort_unstable();
        assert_eq!(order, (0..input.similarity.len()).collect::<Vec<_>>());
    }
});
