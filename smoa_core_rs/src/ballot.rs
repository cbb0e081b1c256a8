//! A ballot: one judge's verdict over the candidates it saw.

use crate::error::{CoreError, ErrorKind, Result};
use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq)]
pub struct Ballot {
    /// Candidate -> score (higher is better), in the order given.
    pub scores: Option<Vec<(usize, f64)>>,
    /// Candidates, best first.
    pub ranking: Option<Vec<usize>>,
    pub weight: f64,
    /// The candidates seen, best first (score ties by index), and aligned with it each one's preference:
    /// higher is better, equal is a tie. Derived once here so every method reads one order.
    candidates: Vec<usize>,
    preference: Vec<f64>,
}

impl Ballot {
    pub fn new(scores: Option<Vec<(i64, f64)>>, ranking: Option<Vec<i64>>, weight: f64) -> Result<Self> {
        if !(weight.is_finite() && weight > 0.0) {
            return Err(CoreError::out_of_range("weight", "(0, ∞)", weight));
        }
        let scores = scores.map(|s| checked_scores(&s)).transpose()?;
        let ranking = ranking.map(|r| checked_ranking(&r)).transpose()?;
        let (candidates, preference) = match (&scores, &ranking) {
            (None, None) => return Err(CoreError::invalid("scores", "a Ballot needs scores or a ranking")),
            (_, Some(r)) => {
                if let Some(s) = &scores {
                    let mut a: Vec<usize> = s.iter().map(|p| p.0).collect();
                    let mut b = r.clone();
                    a.sort_unstable();
                    b.sort_unstable();
                    if a != b {
                        return Err(CoreError::invalid("ranking", "must name the same candidates as scores"));
                    }
                }
                (r.clone(), (0..r.len()).map(|p| -(p as f64)).collect())
            }
            (Some(s), None) => {
                let mut order = s.clone();
                order.sort_by(|a, b| b.1.partial_cmp(&a.1).expect("finite").then(a.0.cmp(&b.0)));
                order.into_iter().unzip()
            }
        };
        Ok(Self { scores, ranking, weight, candidates, preference })
    }

    pub fn candidates(&self) -> &[usize] {
        &self.candidates
    }

    pub fn preference(&self) -> &[f64] {
        &self.preference
    }

    /// Rejects candidates outside `0..n`, naming the first.
    pub fn check_within(&self, n: usize) -> Result<()> {
        match self.candidates.iter().position(|&c| c >= n) {
            Some(p) => {
                let candidate = self.candidates[p];
                // Name the field the caller wrote: ranking position, or the scores key.
                let arg = match &self.ranking {
                    Some(_) => format!("ranking[{p}]"),
                    None => format!("scores[{candidate}]"),
                };
                Err(CoreError::new(arg, ErrorKind::UnknownCandidate { candidate, n }))
            }
            None => Ok(()),
        }
    }

    /// Each seen candidate with (how many it beats, how many it ties) on this ballot.
    pub fn standings(&self) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
        self.candidates.iter().zip(&self.preference).map(move |(&c, &p)| {
            let (mut beats, mut ties) = (0, 0);
            for &q in &self.preference {
                match p.partial_cmp(&q) {
                    Some(Ordering::Greater) => beats += 1,
                    Some(Ordering::Equal) => ties += 1,
                    _ => {}
                }
            }
            (c, beats, ties - 1)
        })
    }
}

fn candidate_index(arg: impl FnOnce() -> String, raw: i64) -> Result<usize> {
    usize::try_from(raw).map_err(|_| CoreError::out_of_range(arg(), "[0, ∞)", raw))
}

fn checked_scores(raw: &[(i64, f64)]) -> Result<Vec<(usize, f64)>> {
    if raw.is_empty() {
        return Err(CoreError::new("scores", ErrorKind::Empty));
    }
    let mut out = Vec::with_capacity(raw.len());
    for &(c, s) in raw {
        let c = candidate_index(|| format!("scores[{c}]"), c)?;
        if !s.is_finite() {
            return Err(CoreError::new(format!("scores[{c}]"), ErrorKind::NotFinite(s)));
        }
        out.push((c, s));
    }
    let mut seen: Vec<usize> = out.iter().map(|p| p.0).collect();
    seen.sort_unstable();
    if let Some(w) = seen.windows(2).find(|w| w[0] == w[1]) {
        return Err(CoreError::new("scores", ErrorKind::Duplicate(w[0])));
    }
    Ok(out)
}

fn checked_ranking(raw: &[i64]) -> Result<Vec<usize>> {
    if raw.is_empty() {
        return Err(CoreError::new("ranking", ErrorKind::Empty));
    }
    let mut out = Vec::with_capacity(raw.len());
    for (p, &c) in raw.iter().enumerate() {
        let c = candidate_index(|| format!("ranking[{p}]"), c)?;
        if out.contains(&c) {
            return Err(CoreError::new(format!("ranking[{p}]"), ErrorKind::Duplicate(c)));
        }
        out.push(c);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_comes_from_ranking_else_scores() {
        let b = Ballot::new(Some(vec![(0, 1.0), (1, 3.0), (2, 3.0)]), None, 1.0).unwrap();
        assert_eq!(b.candidates(), &[1, 2, 0]);
        let standings: Vec<_> = b.standings().collect();
        assert_eq!(standings, vec![(1, 1, 1), (2, 1, 1), (0, 0, 0)]);
        let r = Ballot::new(Some(vec![(0, 1.0), (1, 3.0)]), Some(vec![0, 1]), 2.0).unwrap();
        assert_eq!(r.candidates(), &[0, 1]);
    }

    #[test]
    fn bad_ballots_name_their_field() {
        assert_eq!(Ballot::new(None, None, 1.0).unwrap_err().arg, "scores");
        assert_eq!(Ballot::new(None, Some(vec![1, 1]), 1.0).unwrap_err().arg, "ranking[1]");
        assert_eq!(Ballot::new(None, Some(vec![-1]), 1.0).unwrap_err().arg, "ranking[0]");
        assert_eq!(Ballot::new(Some(vec![(3, f64::NAN)]), None, 1.0).unwrap_err().arg, "scores[3]");
        assert_eq!(Ballot::new(None, Some(vec![0]), 0.0).unwrap_err().arg, "weight");
        assert_eq!(Ballot::new(Some(vec![(0, 1.0)]), Some(vec![1]), 1.0).unwrap_err().arg, "ranking");
        assert_eq!(Ballot::new(Some(vec![]), None, 1.0).unwrap_err().arg, "scores");
    }

    #[test]
    fn unknown_candidate_is_located() {
        let b = Ballot::new(None, Some(vec![0, 7, 1]), 1.0).unwrap();
        let e = b.check_within(3).unwrap_err();
        assert_eq!(e.arg, "ranking[1]");
        assert_eq!(e.to_string(), "ranking[1]: candidate 7 out of range for n=3");
    }
}
