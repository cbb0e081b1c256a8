//! Weighted pairwise outcomes between candidates, as ballots report them: the input of Copeland and
//! Bradley–Terry.

use crate::ballot::Ballot;

pub struct Pairwise {
    n: usize,
    /// wins[i * n + j]: weight of ballots preferring i to j, a tie counting half each way.
    wins: Vec<f64>,
    compared: Vec<bool>,
}

impl Pairwise {
    pub fn from_ballots(ballots: &[Ballot], n: usize) -> Self {
        let mut wins = vec![0.0; n * n];
        let mut compared = vec![false; n * n];
        for b in ballots {
            let (cands, pref) = (b.candidates(), b.preference());
            for x in 0..cands.len() {
                for y in x + 1..cands.len() {
                    let (i, j) = (cands[x], cands[y]);
                    compared[i * n + j] = true;
                    compared[j * n + i] = true;
                    if pref[x] > pref[y] {
                        wins[i * n + j] += b.weight;
                    } else if pref[x] < pref[y] {
                        wins[j * n + i] += b.weight;
                    } else {
                        wins[i * n + j] += b.weight / 2.0;
                        wins[j * n + i] += b.weight / 2.0;
                    }
                }
            }
        }
        Self { n, wins, compared }
    }

    pub fn wins(&self, i: usize, j: usize) -> f64 {
        self.wins[i * self.n + j]
    }

    pub fn compared(&self, i: usize, j: usize) -> bool {
        self.compared[i * self.n + j]
    }

    /// Copeland score: pairwise majority wins plus half the pairwise draws, over compared pairs.
    pub fn copeland(&self, seen: &[usize]) -> Vec<f64> {
        (0..self.n)
            .map(|i| {
                if seen[i] == 0 {
                    return f64::NAN;
                }
                (0..self.n)
                    .filter(|&j| j != i && self.compared(i, j))
                    .map(|j| match self.wins(i, j).partial_cmp(&self.wins(j, i)) {
                        Some(std::cmp::Ordering::Greater) => 1.0,
                        Some(std::cmp::Ordering::Equal) => 0.5,
                        _ => 0.0,
                    })
                    .sum()
            })
            .collect()
    }
}
