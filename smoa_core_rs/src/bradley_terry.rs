//! Bradley–Terry strengths fitted by Hunter's (2004) MM algorithm.

use crate::alloc;
use crate::error::Result;
use crate::pairwise::Pairwise;
use crate::pow2::{times_pow2, unit_exponent};

pub struct Fit {
    /// Log-strength per candidate, centred to mean 0 over the fitted ones; NaN for the others.
    pub log_strength: Vec<f64>,
    pub iterations: usize,
}

/// Fits the `n` candidates some ballot saw (`pairs.seen()` of them). `prior` pseudo-wins each way on every
/// pair keep every strength finite and the comparison graph connected, which plain maximum likelihood
/// does not. Each sweep visits every pair of seen candidates, so a fit costs up to `max_iter` times
/// `MAX_CANDIDATES`² / 2 pair updates.
pub fn fit(pairs: &Pairwise, n: usize, prior: f64, tol: f64, max_iter: usize) -> Result<Fit> {
    let m = pairs.seen();
    let mut log_strength = vec![f64::NAN; n];
    if m == 0 {
        return Ok(Fit { log_strength, iterations: 0 });
    }
    let (mut won, mut games) = totals(pairs, prior, 0)?;
    if !won.iter().chain(&games).all(|v| v.is_finite()) {
        // Weights or a prior near f64::MAX overflowed the totals. Scaling wins and prior alike leaves the
        // fit unchanged, and by a power of two it is exact: bring the largest of them near 1.
        let largest =
            (0..m * m).filter(|x| x / m != x % m).map(|x| pairs.wins(x / m, x % m)).fold(prior, f64::max);
        (won, games) = totals(pairs, prior, unit_exponent(largest))?;
    }
    // Jacobi MM sweeps. 1/(p_a + p_b) is shared by rows a and b, so each pair costs one division.
    let mut p = vec![1.0f64; m];
    let mut denom = vec![0.0f64; m];
    let mut iterations = 0;
    while iterations < max_iter {
        iterations += 1;
        denom.iter_mut().for_each(|d| *d = 0.0);
        for a in 0..m {
            for b in a + 1..m {
                let g = games[a * m + b];
                if g > 0.0 {
                    let inv = g / (p[a] + p[b]);
                    denom[a] += inv;
                    denom[b] += inv;
                }
            }
        }
        // MM is scale-equivariant, so p is only rescaled (to sum m, against overflow) and centred in log
        // space once at the end. The spread of the per-candidate ratios new/old bounds the change of every
        // centred log-strength, so stopping on it is never looser than stopping on that change.
        let (mut lo, mut hi, mut sum) = (f64::INFINITY, 0.0f64, 0.0f64);
        for a in 0..m {
            // A prior so small it is subnormal lets a candidate that never won underflow to strength 0,
            // whose log is -inf: the smallest normal float keeps it finite (and ranked last).
            let v = if denom[a] > 0.0 { (won[a] / denom[a]).max(f64::MIN_POSITIVE) } else { p[a] };
            let ratio = v / p[a];
            lo = lo.min(ratio);
            hi = hi.max(ratio);
            p[a] = v;
            sum += v;
        }
        let scale = m as f64 / sum;
        p.iter_mut().for_each(|v| *v *= scale);
        if (hi / lo).ln() < tol {
            break;
        }
    }
    let centre = p.iter().map(|v| v.ln()).sum::<f64>() / m as f64;
    for (a, v) in p.iter().enumerate() {
        log_strength[pairs.id(a)] = v.ln() - centre;
    }
    Ok(Fit { log_strength, iterations })
}

/// Wins of each candidate and games of each pair (row-major), prior included, all times 2^`scale`.
fn totals(pairs: &Pairwise, prior: f64, scale: i32) -> Result<(Vec<f64>, Vec<f64>)> {
    let m = pairs.seen();
    let wins = |a, b| times_pow2(pairs.wins(a, b), scale);
    let prior = times_pow2(prior, scale);
    let won = (0..m).map(|a| (0..m).filter(|&b| b != a).map(|b| wins(a, b) + prior).sum()).collect();
    let mut games = alloc::with_capacity("ballots", m * m)?;
    games.extend((0..m * m).map(|x| {
        let (a, b) = (x / m, x % m);
        if a == b {
            0.0
        } else {
            wins(a, b) + wins(b, a) + 2.0 * prior
        }
    }));
    Ok((won, games))
}
