//! Any ballots and options: Ballot and aggregate return Ok or an error, never panic; a ranking orders all
//! n candidates, seen ones first, and seen candidates get finite scores (RRF's sum may exceed the float
//! range only with weights near f64::MAX, and is then +inf, never NaN).
#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use smoa_core_rs::aggregate::{aggregate, AggregateOptions, AggregationMethod};
use smoa_core_rs::ballot::Ballot;
use smoa_core_rs::kendall::kendall_w;

#[derive(Arbitrary, Debug)]
struct RawBallot {
    scores: Option<Vec<(i8, f64)>>,
    ranking: Option<Vec<i8>>,
    weight: f64,
}

#[derive(Arbitrary, Debug)]
struct Input {
    ballots: Vec<RawBallot>,
    n: u16,
    rrf_k: f64,
    bt_prior: f64,
    bt_tol: f64,
    bt_max_iter: u8,
}

fuzz_target!(|input: Input| {
    let ballots: Vec<Ballot> = input
        .ballots
        .into_iter()
        .filter_map(|b| {
            let scores = b.scores.map(|s| s.into_iter().map(|(c, v)| (c as i64, v)).collect());
            Ballot::new(scores, b.ranking.map(|r| r.into_iter().map(i64::from).collect()), b.weight).ok()
        })
        .collect();
    let n = input.n as usize % 1100;
    let _ = kendall_w(&ballots, n).map(|w| assert!(w.is_none_or(|w| (0.0..=1.0 + 1e-12).contains(&w))));
    for method in AggregationMethod::ALL {
        let opts = AggregateOptions {
            method,
            rrf_k: input.rrf_k,
            bt_prior: input.bt_prior,
            bt_tol: input.bt_tol,
            bt_max_iter: input.bt_max_iter as usize,
        };
        let Ok(a) = aggregate(&ballots, n, &opts) else { continue };
        let mut order = a.ranking.clone();
        order.sort_unstable();
        assert_eq!(order, (0..n).collect::<Vec<_>>());
        for c in 0..n {
            if a.seen[c] == 0 {
                assert!(a.scores[c].is_nan());
            } else if method == AggregationMethod::Rrf {
                assert!(!a.scores[c].is_nan());
            } else {
                assert!(a.scores[c].is_finite(), "{} gave {c} {}", method.name(), a.scores[c]);
                assert!(a.copeland[c].is_finite());
            }
        }
        let first_unseen = a.ranking.iter().position(|&c| a.seen[c] == 0).unwrap_or(n);
        assert!(a.ranking[first_unseen..].iter().all(|&c| a.seen[c] == 0));
    }
});
