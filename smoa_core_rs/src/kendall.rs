//! Kendall's coefficient of concordance W: how far the ballots agree, 0 (none) to 1 (identical order).

use crate::ballot::Ballot;

/// Tie-corrected W over the candidates every ballot saw (partial ballots can only be compared where they
/// overlap). None with fewer than two ballots or two common candidates, or when every ballot ties all.
pub fn kendall_w(ballots: &[Ballot], n: usize) -> Option<f64> {
    let m = ballots.len();
    if m < 2 {
        return None;
    }
    let mut seen_by = vec![0usize; n];
    for b in ballots {
        for &c in b.candidates() {
            seen_by[c] += 1;
        }
    }
    let common: Vec<usize> = (0..n).filter(|&c| seen_by[c] == m).collect();
    let k = common.len();
    if k < 2 {
        return None;
    }
    let mut rank_sums = vec![0.0f64; k];
    let mut tie_correction = 0.0f64;
    for b in ballots {
        let pref: Vec<f64> = common
            .iter()
            .map(|&c| {
                let at = b.candidates().iter().position(|&x| x == c).expect("common candidate");
                b.preference()[at]
            })
            .collect();
        for (x, sum) in rank_sums.iter_mut().enumerate() {
            let better = pref.iter().filter(|&&q| q > pref[x]).count() as f64;
            let tied = pref.iter().filter(|&&q| q == pref[x]).count() as f64;
            // Averaged 1-based rank: 1 + better + (tied - 1) / 2.
            *sum += 1.0 + better + (tied - 1.0) / 2.0;
        }
        let mut sorted = pref.clone();
        sorted.sort_by(|a, b| a.total_cmp(b));
        for group in sorted.chunk_by(|a, b| a == b) {
            let t = group.len() as f64;
            tie_correction += t * t * t - t;
        }
    }
    let (mf, kf) = (m as f64, k as f64);
    let mean = rank_sums.iter().sum::<f64>() / kf;
    let s: f64 = rank_sums.iter().map(|r| (r - mean) * (r - mean)).sum();
    let denom = mf * mf * (kf * kf * kf - kf) - mf * tie_correction;
    (denom > 0.0).then(|| 12.0 * s / denom)
}
