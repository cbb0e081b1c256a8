//! Combining several judges' ballots into one ranking of the candidates.

use crate::ballot::{check_ballots, Ballot};
use crate::bradley_terry;
use crate::error::{CoreError, Result};
use crate::kendall::kendall_w;
use crate::pairwise::Pairwise;
use crate::pow2::{times_pow2, unit_exponent};
use std::borrow::Borrow;
use std::cmp::Ordering;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregationMethod {
    Mean,
    ZMean,
    Borda,
    Rrf,
    Copeland,
    BradleyTerry,
}

impl AggregationMethod {
    pub const ALL: [Self; 6] =
        [Self::Mean, Self::ZMean, Self::Borda, Self::Rrf, Self::Copeland, Self::BradleyTerry];

    pub fn name(self) -> &'static str {
        match self {
            Self::Mean => "mean",
            Self::ZMean => "zmean",
            Self::Borda => "borda",
            Self::Rrf => "rrf",
            Self::Copeland => "copeland",
            Self::BradleyTerry => "bradley_terry",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.name() == name)
    }

    fn needs_scores(self) -> bool {
        matches!(self, Self::Mean | Self::ZMean)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AggregateOptions {
    pub method: AggregationMethod,
    pub rrf_k: f64,
    pub bt_prior: f64,
    pub bt_tol: f64,
    pub bt_max_iter: usize,
}

impl Default for AggregateOptions {
    fn default() -> Self {
        Self { method: AggregationMethod::Borda, rrf_k: 60.0, bt_prior: 0.5, bt_tol: 1e-9, bt_max_iter: 1000 }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    pub method: AggregationMethod,
    pub scores: Vec<f64>,
    pub ranking: Vec<usize>,
    pub copeland: Vec<f64>,
    pub mean_score: Vec<f64>,
    pub seen: Vec<usize>,
    pub kendall_w: Option<f64>,
    pub iterations: usize,
}

fn validate(ballots: &[impl Borrow<Ballot>], n: usize, opts: &AggregateOptions) -> Result<()> {
    check_ballots(ballots, n)?;
    if !(opts.rrf_k.is_finite() && opts.rrf_k >= 0.0) {
        return Err(CoreError::out_of_range("rrf_k", "[0, ∞)", opts.rrf_k));
    }
    if !(opts.bt_prior.is_finite() && opts.bt_prior > 0.0) {
        return Err(CoreError::out_of_range("bt_prior", "(0, ∞)", opts.bt_prior));
    }
    if !(opts.bt_tol.is_finite() && opts.bt_tol > 0.0) {
        return Err(CoreError::out_of_range("bt_tol", "(0, ∞)", opts.bt_tol));
    }
    if opts.bt_max_iter == 0 {
        return Err(CoreError::out_of_range("bt_max_iter", "[1, ∞)", 0));
    }
    if opts.method.needs_scores() {
        if let Some(i) = ballots.iter().position(|b| b.borrow().scores.is_none()) {
            return Err(CoreError::invalid(
                format!("ballots[{i}].scores"),
                format!("method '{}' needs scores on every ballot", opts.method.name()),
            ));
        }
    }
    Ok(())
}

pub fn aggregate(ballots: &[impl Borrow<Ballot>], n: usize, opts: &AggregateOptions) -> Result<Aggregate> {
    validate(ballots, n, opts)?;
    let mut seen = vec![0usize; n];
    for b in ballots.iter().map(Borrow::borrow) {
        for &c in b.candidates() {
            seen[c] += 1;
        }
    }
    let pairs = Pairwise::from_ballots(ballots, n)?;
    let copeland = pairs.copeland();
    let mean_score = weighted_mean(ballots, n, |b| b.scores.as_ref().map(|s| s.to_vec()).unwrap_or_default());
    let mut iterations = 0;
    let scores = match opts.method {
        AggregationMethod::Mean => mean_score.clone(),
        AggregationMethod::ZMean => weighted_mean(ballots, n, z_scores),
        AggregationMethod::Borda => weighted_mean(ballots, n, borda_points),
        AggregationMethod::Rrf => rrf(ballots, n, opts.rrf_k),
        AggregationMethod::Copeland => copeland.clone(),
        AggregationMethod::BradleyTerry => {
            let fit = bradley_terry::fit(&pairs, n, opts.bt_prior, opts.bt_tol, opts.bt_max_iter)?;
            iterations = fit.iterations;
            fit.log_strength
        }
    };
    let mut ranking: Vec<usize> = (0..n).collect();
    ranking.sort_by(|&a, &b| {
        desc_nan_last(scores[a], scores[b])
            .then_with(|| desc_nan_last(copeland[a], copeland[b]))
            .then_with(|| desc_nan_last(mean_score[a], mean_score[b]))
            .then_with(|| seen[b].cmp(&seen[a]))
            .then_with(|| a.cmp(&b))
    });
    Ok(Aggregate {
        method: opts.method,
        scores,
        ranking,
        copeland,
        mean_score,
        seen,
        kendall_w: kendall_w(ballots, n)?,
        iterations,
    })
}

/// Descending order with NaN after every number.
pub fn desc_nan_last(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => b.partial_cmp(&a).expect("not NaN"),
    }
}

/// Weighted mean, over the ballots that give a candidate a value, of each ballot's per-candidate values.
fn weighted_mean(
    ballots: &[impl Borrow<Ballot>],
    n: usize,
    values: impl Fn(&Ballot) -> Vec<(usize, f64)>,
) -> Vec<f64> {
    let mut sum = vec![0.0f64; n];
    let mut weight = vec![0.0f64; n];
    for b in ballots.iter().map(Borrow::borrow) {
        for (c, v) in values(b) {
            sum[c] += b.weight * v;
            weight[c] += b.weight;
        }
    }
    let mut mean: Vec<f64> =
        sum.iter().zip(&weight).map(|(s, w)| if *w > 0.0 { s / w } else { f64::NAN }).collect();
    // A mean lies between its values, but its sums can overflow on the way (weights or values near
    // f64::MAX). Those candidates are summed again with weights and values brought near 1 by powers of two.
    let overflowed: Vec<bool> =
        sum.iter().zip(&weight).map(|(s, w)| !(s.is_finite() && w.is_finite())).collect();
    if overflowed.contains(&true) {
        let (mut top_weight, mut top_value) = (vec![0.0f64; n], vec![0.0f64; n]);
        for b in ballots.iter().map(Borrow::borrow) {
            for (c, v) in values(b).into_iter().filter(|&(c, _)| overflowed[c]) {
                top_weight[c] = top_weight[c].max(b.weight);
                top_value[c] = top_value[c].max(v.abs());
            }
        }
        let (mut sum, mut weight) = (vec![0.0f64; n], vec![0.0f64; n]);
        for b in ballots.iter().map(Borrow::borrow) {
            for (c, v) in values(b).into_iter().filter(|&(c, _)| overflowed[c] && top_value[c] > 0.0) {
                let w = times_pow2(b.weight, unit_exponent(top_weight[c]));
                sum[c] += w * times_pow2(v, unit_exponent(top_value[c]));
                weight[c] += w;
            }
        }
        for c in (0..n).filter(|&c| overflowed[c]) {
            mean[c] = match top_value[c] {
                0.0 => 0.0,
                top => times_pow2(sum[c] / weight[c], -unit_exponent(top)).clamp(-top, top),
            };
        }
    }
    mean
}

fn z_scores(b: &Ballot) -> Vec<(usize, f64)> {
    let scores = b.scores.as_deref().unwrap_or_default();
    // Equal scores carry no preference: decide that exactly, since their float mean can differ from
    // them by an ulp and turn rounding noise into z-scores of ±1.
    if scores.windows(2).all(|w| w[0].1 == w[1].1) {
        return scores.iter().map(|&(c, _)| (c, 0.0)).collect();
    }
    let values: Vec<f64> = scores.iter().map(|s| s.1).collect();
    let z = standardized(&values).unwrap_or_else(|| {
        // The sums overflowed (scores near f64::MAX) or the squares vanished (a subnormal spread). z-scores
        // are the same for scores times a power of two, and that product is exact: bring the largest near 1.
        let e = unit_exponent(values.iter().fold(0.0f64, |m, v| m.max(v.abs())));
        standardized(&values.iter().map(|&v| times_pow2(v, e)).collect::<Vec<_>>())
            .expect("unequal scores near 1 have a finite, positive spread")
    });
    scores.iter().zip(z).map(|(&(c, _), z)| (c, z)).collect()
}

/// (v - mean) / population standard deviation, or None when the spread does not come out finite and positive.
fn standardized(values: &[f64]) -> Option<Vec<f64>> {
    let k = values.len() as f64;
    let mean = values.iter().sum::<f64>() / k;
    let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / k).sqrt();
    (mean.is_finite() && sd.is_finite() && sd > 0.0).then(|| values.iter().map(|v| (v - mean) / sd).collect())
}

/// Normalized Borda points: the share of the other seen candidates this one beats (ties half), so a
/// partial ballot's points are on the same 0..1 scale as a full one's.
fn borda_points(b: &Ballot) -> Vec<(usize, f64)> {
    let m = b.candidates().len();
    b.standings()
        .map(|(c, beats, ties)| {
            let points = if m > 1 { (beats as f64 + 0.5 * ties as f64) / (m - 1) as f64 } else { 0.5 };
            (c, points)
        })
        .collect()
}

/// Reciprocal-rank fusion (Cormack et al. 2009) with averaged ranks for ties.
fn rrf(ballots: &[impl Borrow<Ballot>], n: usize, k: f64) -> Vec<f64> {
    let mut total = vec![f64::NAN; n];
    for b in ballots.iter().map(Borrow::borrow) {
        let m = b.candidates().len();
        for (c, beats, ties) in b.standings() {
            let rank = 1.0 + (m - 1 - beats - ties) as f64 + 0.5 * ties as f64;
            let t = &mut total[c];
            *t = if t.is_nan() { 0.0 } else { *t } + b.weight / (k + rank);
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::MAX_CANDIDATES;
    use proptest::prelude::*;

    fn ranked(order: &[i64]) -> Ballot {
        Ballot::new(None, Some(order.to_vec()), 1.0).unwrap()
    }

    fn scored(scores: &[f64]) -> Ballot {
        Ballot::new(Some(scores.iter().enumerate().map(|(i, &s)| (i as i64, s)).collect()), None, 1.0)
            .unwrap()
    }

    fn with(method: AggregationMethod) -> AggregateOptions {
        AggregateOptions { method, ..Default::default() }
    }

    #[test]
    fn borda_of_known_ballots() {
        let ballots = [ranked(&[0, 1, 2]), ranked(&[1, 0, 2]), ranked(&[1, 2, 0])];
        let a = aggregate(&ballots, 3, &with(AggregationMethod::Borda)).unwrap();
        assert_eq!(a.scores, vec![0.5, 2.5 / 3.0, 0.5 / 3.0]);
        assert_eq!(a.ranking, vec![1, 0, 2]);
        assert_eq!(a.copeland, vec![1.0, 2.0, 0.0]);
    }

    #[test]
    fn unseen_candidates_rank_last_with_nan() {
        let a = aggregate(&[ranked(&[2, 0])], 4, &with(AggregationMethod::Rrf)).unwrap();
        assert_eq!(a.ranking, vec![2, 0, 1, 3]);
        assert!(a.scores[1].is_nan() && a.scores[3].is_nan());
        assert_eq!(a.seen, vec![1, 0, 1, 0]);
    }

    #[test]
    fn ties_break_by_copeland_then_mean_then_seen_then_index() {
        // Equal Borda for 0 and 1 (each beats the other once); mean raw score decides.
        let ballots = [scored(&[3.0, 2.0]), scored(&[1.0, 5.0])];
        let a = aggregate(&ballots, 2, &with(AggregationMethod::Borda)).unwrap();
        assert_eq!(a.scores, vec![0.5, 0.5]);
        assert_eq!(a.ranking, vec![1, 0]);
        let a = aggregate(&[scored(&[1.0, 1.0])], 2, &with(AggregationMethod::Mean)).unwrap();
        assert_eq!(a.ranking, vec![0, 1]);
    }

    #[test]
    fn zmean_stays_finite_at_the_ends_of_the_float_range() {
        for scores in [[0.0, -1.8e-308], [f64::MAX, -f64::MAX], [5e-324, 0.0], [f64::MAX, f64::MAX / 2.0]] {
            let a = aggregate(&[scored(&scores)], 2, &with(AggregationMethod::ZMean)).unwrap();
            assert!((a.scores[0] - 1.0).abs() < 1e-12 && (a.scores[1] + 1.0).abs() < 1e-12, "{scores:?}");
        }
        // Where the plain formula works, the result is the plain formula's.
        let a = aggregate(&[scored(&[1.0, 2.0, 3.0])], 3, &with(AggregationMethod::ZMean)).unwrap();
        assert_eq!(Some(a.scores), standardized(&[1.0, 2.0, 3.0]));
    }

    #[test]
    fn means_stay_finite_when_their_sums_would_overflow() {
        let heavy = |scores: &[f64], weight: f64| {
            Ballot::new(Some(scores.iter().enumerate().map(|(i, &s)| (i as i64, s)).collect()), None, weight)
                .unwrap()
        };
        let a = aggregate(&[heavy(&[-3.2e75, 1.0], 1e300)], 2, &with(AggregationMethod::Mean)).unwrap();
        assert_eq!(a.scores, vec![-3.2e75, 1.0]);
        let ballots = [heavy(&[f64::MAX, 0.0], 1.0), heavy(&[f64::MAX, 1.0], 3.0)];
        let a = aggregate(&ballots, 2, &with(AggregationMethod::Mean)).unwrap();
        assert_eq!(a.scores[0], f64::MAX);
        let ballots = [heavy(&[2.0, 1.0], f64::MAX), heavy(&[1.0, 2.0], f64::MAX / 2.0)];
        let a = aggregate(&ballots, 2, &with(AggregationMethod::Borda)).unwrap();
        assert!(
            (a.scores[0] - 2.0 / 3.0).abs() < 1e-15 && (a.scores[1] - 1.0 / 3.0).abs() < 1e-15,
            "{:?}",
            a.scores
        );
    }

    #[test]
    fn score_methods_need_scores() {
        let e = aggregate(&[ranked(&[0])], 1, &with(AggregationMethod::Mean)).unwrap_err();
        assert_eq!(e.arg, "ballots[0].scores");
    }

    #[test]
    fn unknown_candidates_are_named_within_their_ballot() {
        let e = aggregate(&[ranked(&[0]), ranked(&[0, 5])], 3, &AggregateOptions::default()).unwrap_err();
        assert_eq!(e.to_string(), "ballots[1].ranking[1]: candidate 5 out of range for n=3");
        let e = aggregate(&[scored(&[1.0, 2.0, 3.0])], 2, &AggregateOptions::default()).unwrap_err();
        assert_eq!(e.arg, "ballots[0].scores[2]");
    }

    #[test]
    fn n_past_the_limit_is_refused_before_any_allocation() {
        for n in [0, MAX_CANDIDATES + 1, 100_000, 1_000_000_000_000, 1 << 62, usize::MAX] {
            let e = aggregate(&[ranked(&[0])], n, &AggregateOptions::default()).unwrap_err();
            assert_eq!(e.to_string(), format!("n: must be in [1, 1024], got {n}"));
        }
    }

    #[test]
    fn a_full_ballot_at_the_limit_aggregates_with_every_method() {
        let order: Vec<i64> = (0..MAX_CANDIDATES as i64).rev().collect();
        let ballots = [
            Ballot::new(Some(order.iter().map(|&c| (c, c as f64)).collect()), Some(order.clone()), 1.0)
                .unwrap(),
            Ballot::new(Some(order.iter().map(|&c| (c, (c / 2) as f64)).collect()), None, 2.0).unwrap(),
        ];
        for method in AggregationMethod::ALL {
            let opts = AggregateOptions { method, bt_max_iter: 5, ..Default::default() };
            let a = aggregate(&ballots, MAX_CANDIDATES, &opts).unwrap();
            assert_eq!(a.ranking[0], MAX_CANDIDATES - 1, "{}", method.name());
        }
    }

    #[test]
    fn bradley_terry_recovers_a_known_order() {
        // Candidate i beats j (i < j) in most ballots; strengths must order 0 > 1 > 2 > 3.
        let mut ballots = Vec::new();
        for round in 0..40 {
            let mut order = vec![0, 1, 2, 3];
            if round % 4 == 0 {
                order.swap(round % 3, round % 3 + 1);
            }
            ballots.push(ranked(&order));
        }
        let a = aggregate(&ballots, 4, &with(AggregationMethod::BradleyTerry)).unwrap();
        assert_eq!(a.ranking, vec![0, 1, 2, 3]);
        assert!(a.scores.windows(2).all(|w| w[0] > w[1]));
        assert!(a.iterations > 1 && a.iterations < 1000);
        assert!(a.scores.iter().sum::<f64>().abs() < 1e-9);
    }

    #[test]
    fn kendall_w_is_one_for_identical_and_zero_for_opposed() {
        let same = [ranked(&[0, 1, 2]), ranked(&[0, 1, 2])];
        assert!((kendall_w(&same, 3).unwrap().unwrap() - 1.0).abs() < 1e-12);
        let opposed = [ranked(&[0, 1, 2]), ranked(&[2, 1, 0])];
        assert_eq!(kendall_w(&opposed, 3).unwrap(), Some(0.0));
        assert_eq!(kendall_w(&same[..1], 3).unwrap(), None);
        assert_eq!(kendall_w(&[scored(&[1.0, 1.0]), scored(&[2.0, 2.0])], 2).unwrap(), None);
        // Validated like aggregate: a candidate past n is an error, not an index out of bounds.
        assert_eq!(kendall_w(&[ranked(&[0]), ranked(&[6])], 1).unwrap_err().arg, "ballots[1].ranking[0]");
    }

    fn permutation() -> impl Strategy<Value = Vec<i64>> {
        (1usize..9).prop_flat_map(|n| Just((0..n as i64).collect::<Vec<_>>()).prop_shuffle())
    }

    proptest! {
        #[test]
        fn identical_ballots_aggregate_to_that_ranking(order in permutation(), copies in 1usize..5) {
            let n = order.len();
            let ballots: Vec<Ballot> = (0..copies).map(|_| {
                let scores = order.iter().enumerate().map(|(p, &c)| (c, (n - p) as f64)).collect();
                Ballot::new(Some(scores), Some(order.clone()), 1.0).unwrap()
            }).collect();
            let expected: Vec<usize> = order.iter().map(|&c| c as usize).collect();
            for method in AggregationMethod::ALL {
                let a = aggregate(&ballots, n, &with(method)).unwrap();
                prop_assert_eq!(&a.ranking, &expected, "method {}", method.name());
            }
        }

        #[test]
        fn aggregation_is_invariant_under_ballot_order(
            raw in proptest::collection::vec(proptest::collection::vec(0u8..5, 4), 1..6),
            rotate in 0usize..6,
        ) {
            // Integer scores and weights keep mean and Copeland sums exact, so any order gives equal floats.
            let ballots: Vec<Ballot> = raw.iter().map(|s| scored(&s.iter().map(|&v| v as f64).collect::<Vec<_>>())).collect();
            let mut rotated = ballots.clone();
            rotated.rotate_left(rotate % ballots.len());
            for method in [AggregationMethod::Mean, AggregationMethod::Copeland] {
                let a = aggregate(&ballots, 4, &with(method)).unwrap();
                let b = aggregate(&rotated, 4, &with(method)).unwrap();
                prop_assert_eq!(a.ranking, b.ranking);
            }
        }
    }
}
