//! Kendall's coefficient of concordance W: how far the ballots agree, 0 (none) to 1 (identical order).

use crate::ballot::{check_ballots, Ballot};
use crate::error::Result;
use std::borrow::Borrow;

/// Tie-corrected W over the candidates every ballot saw (partial ballots can only be compared where they
/// overlap). None with fewer than two ballots or two common candidates, or when every ballot ties all.
/// The ballots are checked as `aggregate` checks them.
pub fn kendall_w(ballots: &[impl Borrow<Ballot>], n: usize) -> Result<Option<f64>> {
    check_ballots(ballots, n)?;
    Ok(concordance(ballots, n))
}

fn concordance(ballots: &[impl Borrow<Ballot>], n: usize) -> Option<f64> {
    let m = ballots.len();
    if m < 2 {
        return None;
    }
    let mut seen_by = vec![0usize; n];
    for b in ballots.iter().map(Borrow::borrow) {
        for &c in b.candidates() {
            seen_by[c] += 1;
        }
    }
    let common: Vec<usize> = (0..n).filter(|&c| seen_by[c] == m).collect();
    let k = common.len();
    if k < 2 {
        return None;
    }
    // Place of each common candidate among them, so a ballot's ranks come out in one pass over it.
    let mut place = vec![usize::MAX; n];
    common.iter().enumerate().for_each(|(x, &c)| place[c] = x);
    let mut rank_sums = vec![0.0f64; k];
    let mut tie_correction = 0.0f64;
    let mut ranked: Vec<(usize, f64)> = Vec::with_capacity(k);
    for b in ballots.iter().map(Borrow::borrow) {
        // A ballot lists its candidates best first, so the common ones come out in rank order with equal
        // preferences adjacent.
        ranked.clear();
        ranked.extend(
            b.candidates()
                .iter()
                .zip(b.preference())
                .filter(|(&c, _)| place[c] != usize::MAX)
                .map(|(&c, &p)| (place[c], p)),
        );
        let mut better = 0usize;
        for run in ranked.chunk_by(|x, y| x.1 == y.1) {
            let tied = run.len() as f64;
            // Averaged 1-based rank: 1 + better + (tied - 1) / 2.
            let rank = 1.0 + better as f64 + (tied - 1.0) / 2.0;
            run.iter().for_each(|&(x, _)| rank_sums[x] += rank);
            better += run.len();
            tie_correction += tied * tied * tied - tied;
        }
    }
    let (mf, kf) = (m as f64, k as f64);
    let mean = rank_sums.iter().sum::<f64>() / kf;
    let s: f64 = rank_sums.iter().map(|r| (r - mean) * (r - mean)).sum();
    let denom = mf * mf * (kf * kf * kf - kf) - mf * tie_correction;
    (denom > 0.0).then(|| 12.0 * s / denom)
}
