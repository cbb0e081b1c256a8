//! Choosing the k candidates that go forward: plain top-k, or maximal marginal relevance (MMR) to trade
//! score against redundancy.

use crate::aggregate::desc_nan_last;
use crate::error::{require_finite, require_k, require_non_empty, require_unit_interval, Result};
use crate::similarity::check_square;

/// Indices of the k highest scores, best first, ties to the lower index.
pub fn top_k(scores: &[f64], k: i64) -> Result<Vec<usize>> {
    require_non_empty("scores", scores)?;
    require_finite("scores", scores)?;
    let k = require_k(k, scores.len())?;
    Ok(rank_desc(scores).into_iter().take(k).collect())
}

/// All indices ordered by score descending, ties to the lower index.
pub fn rank_desc(scores: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| desc_nan_last(scores[a], scores[b]).then(a.cmp(&b)));
    order
}

/// Greedy MMR (Carbonell & Goldstein 1998) over min-max scaled scores, so `lambda` weighs relevance
/// against similarity on the same 0..1 scale whatever produced the scores.
pub fn mmr_top_k(scores: &[f64], similarity: &[Vec<f64>], k: i64, lambda: f64) -> Result<Vec<usize>> {
    require_non_empty("scores", scores)?;
    require_finite("scores", scores)?;
    check_square(similarity, scores.len())?;
    require_unit_interval("lambda_", lambda)?;
    let k = require_k(k, scores.len())?;
    let scaled = min_max_scaled(scores);
    let n = scores.len();
    let mut picked = Vec::with_capacity(k);
    let mut taken = vec![false; n];
    // Largest similarity of each candidate to anything picked so far; no penalty before the first pick.
    let mut redundancy = vec![0.0f64; n];
    while picked.len() < k {
        let choice = if picked.is_empty() {
            // Nothing is redundant before the first pick, so it goes to relevance alone (even at lambda 0),
            // read from the scores themselves: scaling can round distinct scores to one value.
            (0..n).fold(0, |best, i| if scores[i] > scores[best] { i } else { best })
        } else {
            let mut best: Option<(usize, f64)> = None;
            for i in (0..n).filter(|&i| !taken[i]) {
                let value = lambda * scaled[i] - (1.0 - lambda) * redundancy[i];
                if best.is_none_or(|(_, v)| value > v) {
                    best = Some((i, value));
                }
            }
            best.expect("k <= n leaves a candidate").0
        };
        taken[choice] = true;
        picked.push(choice);
        for (i, r) in redundancy.iter_mut().enumerate() {
            *r = r.max(similarity[i][choice]);
        }
    }
    Ok(picked)
}

/// Scores mapped onto [0, 1] (all 1 when they are equal). Scores near ±f64::MAX would make the range
/// overflow to infinity and every value NaN, so then both ends are halved first.
fn min_max_scaled(scores: &[f64]) -> Vec<f64> {
    let (lo, hi) = scores.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &s| (l.min(s), h.max(s)));
    let (lo, hi, halve) = if (hi - lo).is_finite() { (lo, hi, 1.0) } else { (lo / 2.0, hi / 2.0, 0.5) };
    scores.iter().map(|&s| if hi > lo { (s * halve - lo) / (hi - lo) } else { 1.0 }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn top_k_orders_and_breaks_ties_by_index() {
        assert_eq!(top_k(&[0.2, 0.9, 0.5, 0.9], 3).unwrap(), vec![1, 3, 2]);
        assert_eq!(top_k(&[1.0], 0).unwrap(), Vec::<usize>::new());
    }

    #[test]
    fn bad_k_and_scores_are_named() {
        assert_eq!(top_k(&[1.0, 2.0], 3).unwrap_err().to_string(), "k: must be in [0, 2], got 3");
        assert_eq!(top_k(&[1.0, 2.0], -1).unwrap_err().arg, "k");
        assert_eq!(top_k(&[1.0, f64::NAN], 1).unwrap_err().arg, "scores[1]");
        assert_eq!(top_k(&[], 0).unwrap_err().arg, "scores");
    }

    #[test]
    fn mmr_prefers_a_diverse_runner_up_over_a_near_duplicate() {
        // 0 and 1 are near-identical; 2 scores a little lower but says something else.
        let sim = vec![vec![1.0, 0.95, 0.1], vec![0.95, 1.0, 0.1], vec![0.1, 0.1, 1.0]];
        assert_eq!(mmr_top_k(&[0.9, 0.88, 0.8], &sim, 2, 0.5).unwrap(), vec![0, 2]);
        assert_eq!(mmr_top_k(&[0.0, 1.0], &[vec![1.0, 0.0], vec![0.0, 1.0]], 1, 0.0).unwrap(), vec![1]);
        assert_eq!(mmr_top_k(&[0.9, 0.88, 0.8], &sim, 2, 1.0).unwrap(), vec![0, 1]);
    }

    #[test]
    fn mmr_survives_scores_at_the_ends_of_the_float_range() {
        // Scaled, 7.08 and 0.0 both round to 1.0 next to -6.2e42; the first pick is still the best score.
        let scores = [0.0, 7.08, -6.2e42];
        let sim = vec![vec![0.0; 3]; 3];
        assert_eq!(mmr_top_k(&scores, &sim, 1, 0.0).unwrap(), vec![1]);
        assert_eq!(min_max_scaled(&[f64::MAX, -f64::MAX, 0.0]), vec![1.0, 0.0, 0.5]);
        assert_eq!(mmr_top_k(&[-f64::MAX, f64::MAX, 0.0], &sim, 3, 1.0).unwrap(), vec![1, 2, 0]);
    }

    proptest! {
        #[test]
        fn top_k_returns_k_distinct_indices_in_score_order(
            scores in proptest::collection::vec(-100.0f64..100.0, 1..40),
            k_frac in 0.0f64..=1.0,
        ) {
            let k = (k_frac * scores.len() as f64) as i64;
            let picked = top_k(&scores, k).unwrap();
            prop_assert_eq!(picked.len(), k as usize);
            let mut distinct = picked.clone();
            distinct.sort();
            distinct.dedup();
            prop_assert_eq!(distinct.len(), picked.len());
            prop_assert!(picked.windows(2).all(|w| scores[w[0]] >= scores[w[1]]));
            let worst_kept = picked.last().map(|&i| scores[i]).unwrap_or(f64::INFINITY);
            prop_assert!((0..scores.len()).filter(|i| !picked.contains(i)).all(|i| scores[i] <= worst_kept));
        }

        #[test]
        fn mmr_with_lambda_one_is_top_k(scores in proptest::collection::vec(0.0f64..1.0, 1..20)) {
            let n = scores.len();
            let sim = vec![vec![0.5; n]; n];
            let k = (n / 2) as i64;
            prop_assert_eq!(mmr_top_k(&scores, &sim, k, 1.0).unwrap(), top_k(&scores, k).unwrap());
        }
    }
}
