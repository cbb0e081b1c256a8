//! Bradley–Terry strengths fitted by Hunter's (2004) MM algorithm.

use crate::pairwise::Pairwise;

pub struct Fit {
    /// Log-strength per candidate, centred to mean 0 over the fitted ones; NaN for the others.
    pub log_strength: Vec<f64>,
    pub iterations: usize,
}

/// Fits the candidates with `seen[i] > 0`. `prior` pseudo-wins each way on every pair keep every
/// strength finite and the comparison graph connected, which plain maximum likelihood does not.
pub fn fit(pairs: &Pairwise, seen: &[usize], prior: f64, tol: f64, max_iter: usize) -> Fit {
    let n = seen.len();
    let idx: Vec<usize> = (0..n).filter(|&i| seen[i] > 0).collect();
    let m = idx.len();
    let mut log_strength = vec![f64::NAN; n];
    if m == 0 {
        return Fit { log_strength, iterations: 0 };
    }
    let won: Vec<f64> = idx
        .iter()
        .map(|&i| idx.iter().filter(|&&j| j != i).map(|&j| pairs.wins(i, j) + prior).sum())
        .collect();
    let games: Vec<f64> = (0..m * m)
        .map(|x| {
            let (a, b) = (idx[x / m], idx[x % m]);
            if a == b {
                0.0
            } else {
                pairs.wins(a, b) + pairs.wins(b, a) + 2.0 * prior
            }
        })
        .collect();
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
            let v = if denom[a] > 0.0 { won[a] / denom[a] } else { p[a] };
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
    for (a, &i) in idx.iter().enumerate() {
        log_strength[i] = p[a].ln() - centre;
    }
    Fit { log_strength, iterations }
}
