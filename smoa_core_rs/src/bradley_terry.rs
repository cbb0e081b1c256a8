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
    let mut p = vec![1.0f64; m];
    let mut next = vec![0.0f64; m];
    let mut iterations = 0;
    while iterations < max_iter {
        iterations += 1;
        for a in 0..m {
            let denom: f64 = (0..m).filter(|&b| b != a).map(|b| games[a * m + b] / (p[a] + p[b])).sum();
            next[a] = if denom > 0.0 { won[a] / denom } else { p[a] };
        }
        let centre = next.iter().map(|v| v.ln()).sum::<f64>() / m as f64;
        let mut change = 0.0f64;
        for a in 0..m {
            let v = next[a].ln() - centre;
            change = change.max((v - p[a].ln()).abs());
            p[a] = v.exp();
        }
        if change < tol {
            break;
        }
    }
    for (a, &i) in idx.iter().enumerate() {
        log_strength[i] = p[a].ln();
    }
    Fit { log_strength, iterations }
}
