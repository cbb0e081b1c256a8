//! Weighted pairwise outcomes between candidates, as ballots report them: the input of Copeland and
//! Bradley–Terry.

use crate::alloc;
use crate::ballot::Ballot;
use crate::error::Result;
use std::borrow::Borrow;

const UNSEEN: usize = usize::MAX;

/// Outcomes over the candidates some ballot saw, numbered by their place among those (ascending index):
/// the table is as large as the comparisons made, not as the `n` asked for.
pub struct Pairwise {
    /// Candidate index of each place.
    ids: Vec<usize>,
    /// For places a < b, at `slot(a, b)` of the packed upper triangle: the weight of ballots preferring a
    /// to b (`ahead`) and b to a (`behind`), a tie counting half each way. One slot holds both directions,
    /// so a ballot's pairs, visited in place order, are written along rows rather than down columns.
    ahead: Vec<f64>,
    behind: Vec<f64>,
    compared: Vec<bool>,
    n: usize,
}

impl Pairwise {
    /// `ballots` must name only candidates in `0..n`.
    pub fn from_ballots(ballots: &[impl Borrow<Ballot>], n: usize) -> Result<Self> {
        let mut place = alloc::filled("n", n, UNSEEN)?;
        for b in ballots.iter().map(Borrow::borrow) {
            b.candidates().iter().for_each(|&c| place[c] = 0);
        }
        let ids: Vec<usize> = (0..n).filter(|&c| place[c] != UNSEEN).collect();
        ids.iter().enumerate().for_each(|(a, &c)| place[c] = a);
        let m = ids.len();
        let pairs = m * m.saturating_sub(1) / 2;
        let mut ahead = alloc::filled("ballots", pairs, 0.0)?;
        let mut behind = alloc::filled("ballots", pairs, 0.0)?;
        let mut compared = alloc::filled("ballots", pairs, false)?;
        let mut ranked: Vec<(usize, f64)> = Vec::new();
        for b in ballots.iter().map(Borrow::borrow) {
            ranked.clear();
            ranked.extend(b.candidates().iter().zip(b.preference()).map(|(&c, &p)| (place[c], p)));
            ranked.sort_unstable_by_key(|r| r.0);
            for (x, &(a, pa)) in ranked.iter().enumerate() {
                let row = slot(m, a, a + 1);
                for &(c, pc) in &ranked[x + 1..] {
                    let k = row + (c - a - 1);
                    compared[k] = true;
                    if pa > pc {
                        ahead[k] += b.weight;
                    } else if pa < pc {
                        behind[k] += b.weight;
                    } else {
                        ahead[k] += b.weight / 2.0;
                        behind[k] += b.weight / 2.0;
                    }
                }
            }
        }
        Ok(Self { ids, ahead, behind, compared, n })
    }

    /// How many candidates some ballot saw.
    pub fn seen(&self) -> usize {
        self.ids.len()
    }

    /// Candidate index of place `a`.
    pub fn id(&self, a: usize) -> usize {
        self.ids[a]
    }

    /// Weight of ballots preferring place `a` to place `b` (a != b).
    pub fn wins(&self, a: usize, b: usize) -> f64 {
        if a < b {
            self.ahead[slot(self.ids.len(), a, b)]
        } else {
            self.behind[slot(self.ids.len(), b, a)]
        }
    }

    /// Whether some ballot saw both places (a != b).
    pub fn compared(&self, a: usize, b: usize) -> bool {
        self.compared[slot(self.ids.len(), a.min(b), a.max(b))]
    }

    /// Copeland score of each of the `n` candidates: pairwise majority wins plus half the pairwise draws,
    /// over compared pairs; NaN for a candidate no ballot saw. One pass over the triangle credits both
    /// sides of each pair (sums of halves and ones are exact in any order).
    pub fn copeland(&self) -> Vec<f64> {
        let m = self.seen();
        let mut score = vec![0.0f64; m];
        for a in 0..m {
            let row = slot(m, a, a + 1);
            for b in a + 1..m {
                let k = row + (b - a - 1);
                if !self.compared[k] {
                    continue;
                }
                match self.ahead[k].partial_cmp(&self.behind[k]) {
                    Some(std::cmp::Ordering::Greater) => score[a] += 1.0,
                    Some(std::cmp::Ordering::Less) => score[b] += 1.0,
                    Some(std::cmp::Ordering::Equal) => {
                        score[a] += 0.5;
                        score[b] += 0.5;
                    }
                    None => {}
                }
            }
        }
        let mut out = vec![f64::NAN; self.n];
        for (a, s) in score.into_iter().enumerate() {
            out[self.ids[a]] = s;
        }
        out
    }
}

/// Position of the pair a < b in the packed upper triangle of an m×m table, rows in order.
fn slot(m: usize, a: usize, b: usize) -> usize {
    a * (2 * m - a - 1) / 2 + (b - a - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_covers_seen_candidates_only() {
        let b = Ballot::new(None, Some(vec![900, 3]), 1.0).unwrap();
        let p = Pairwise::from_ballots(&[b], 1000).unwrap();
        assert_eq!((p.seen(), p.id(0), p.id(1)), (2, 3, 900));
        assert_eq!((p.wins(1, 0), p.wins(0, 1)), (1.0, 0.0));
        let copeland = p.copeland();
        assert_eq!((copeland[900], copeland[3]), (1.0, 0.0));
        assert!(copeland[0].is_nan() && copeland.len() == 1000);
    }

    #[test]
    fn slots_pack_the_upper_triangle_in_row_order() {
        let m = 5;
        let slots: Vec<usize> = (0..m).flat_map(|a| (a + 1..m).map(move |b| slot(m, a, b))).collect();
        assert_eq!(slots, (0..m * (m - 1) / 2).collect::<Vec<_>>());
    }

    #[test]
    fn both_directions_and_ties_are_kept() {
        let ballots = [
            Ballot::new(None, Some(vec![2, 0, 1]), 1.0).unwrap(),
            Ballot::new(Some(vec![(0, 1.0), (1, 1.0)]), None, 3.0).unwrap(),
        ];
        let p = Pairwise::from_ballots(&ballots, 3).unwrap();
        assert_eq!((p.wins(2, 0), p.wins(0, 2), p.wins(0, 1), p.wins(1, 0)), (1.0, 0.0, 2.5, 1.5));
        assert!(p.compared(1, 2) && p.compared(2, 1));
    }
}
