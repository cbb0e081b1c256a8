//! A ballot: one judge's verdict over the candidates it saw.

use crate::error::{require_non_empty, CoreError, ErrorKind, Result};
use crate::limits::MAX_CANDIDATES;
use std::borrow::Borrow;

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
                    // Neither repeats a candidate, so the same count and every ranked one scored is equality.
                    let scored = Candidates::of(s.iter().map(|p| p.0));
                    if s.len() != r.len() || !r.iter().all(|&c| scored.has(c)) {
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
        // Preference never rises along `candidates`, so equal ones are adjacent: a candidate beats all
        // after its run of equals and ties the rest of the run. One pass, however long the ballot.
        let m = self.candidates.len();
        self.preference
            .chunk_by(|a, b| a == b)
            .scan(0, |start, run| {
                let from = *start;
                *start += run.len();
                Some((from, run.len()))
            })
            .flat_map(move |(from, len)| {
                (from..from + len).map(move |p| (self.candidates[p], m - from - len, len - 1))
            })
    }
}

/// Ballots must be there, and name only candidates in `0..n`, with `n` at most `MAX_CANDIDATES`: past
/// that no ballot could name them all, and the pairwise table would grow with the square of `n`.
pub fn check_ballots(ballots: &[impl Borrow<Ballot>], n: usize) -> Result<()> {
    require_non_empty("ballots", ballots)?;
    if n == 0 || n > MAX_CANDIDATES {
        return Err(CoreError::out_of_range("n", format!("[1, {MAX_CANDIDATES}]"), n));
    }
    for (i, b) in ballots.iter().map(Borrow::borrow).enumerate() {
        b.check_within(n).map_err(|e| e.within(&format!("ballots[{i}]")))?;
    }
    Ok(())
}

/// Which candidates a ballot names: a bit per possible candidate, so checking for repeats is one pass.
struct Candidates(Vec<bool>);

impl Candidates {
    fn of(candidates: impl Iterator<Item = usize>) -> Self {
        let mut named = Self(vec![false; MAX_CANDIDATES]);
        candidates.for_each(|c| {
            named.insert(c);
        });
        named
    }

    /// Whether `c` (below `MAX_CANDIDATES`) was new.
    fn insert(&mut self, c: usize) -> bool {
        !std::mem::replace(&mut self.0[c], true)
    }

    fn has(&self, c: usize) -> bool {
        self.0[c]
    }
}

fn candidate_index(arg: impl FnOnce() -> String, raw: i64) -> Result<usize> {
    match usize::try_from(raw) {
        Ok(c) if c < MAX_CANDIDATES => Ok(c),
        _ => Err(CoreError::out_of_range(arg(), format!("[0, {}]", MAX_CANDIDATES - 1), raw)),
    }
}

/// A ballot longer than `MAX_CANDIDATES` must repeat a candidate or name one past the limit; saying so
/// up front answers in constant time whatever its length.
pub fn require_ballot_size(arg: &str, len: usize) -> Result<()> {
    if len > MAX_CANDIDATES {
        return Err(CoreError::too_many(arg, MAX_CANDIDATES, len, "candidates a ballot can name"));
    }
    Ok(())
}

fn checked_scores(raw: &[(i64, f64)]) -> Result<Vec<(usize, f64)>> {
    if raw.is_empty() {
        return Err(CoreError::new("scores", ErrorKind::Empty));
    }
    require_ballot_size("scores", raw.len())?;
    let mut out = Vec::with_capacity(raw.len());
    for &(c, s) in raw {
        let c = candidate_index(|| format!("scores[{c}]"), c)?;
        if !s.is_finite() {
            return Err(CoreError::new(format!("scores[{c}]"), ErrorKind::NotFinite(s)));
        }
        out.push((c, s));
    }
    // The smallest repeated candidate, as a sorted scan would name it.
    let mut named = Candidates::of(std::iter::empty());
    let repeated = out.iter().filter(|p| !named.insert(p.0)).map(|p| p.0).min();
    if let Some(c) = repeated {
        return Err(CoreError::new("scores", ErrorKind::Duplicate(c)));
    }
    Ok(out)
}

fn checked_ranking(raw: &[i64]) -> Result<Vec<usize>> {
    if raw.is_empty() {
        return Err(CoreError::new("ranking", ErrorKind::Empty));
    }
    require_ballot_size("ranking", raw.len())?;
    let mut out = Vec::with_capacity(raw.len());
    let mut named = Candidates::of(std::iter::empty());
    for (p, &c) in raw.iter().enumerate() {
        let c = candidate_index(|| format!("ranking[{p}]"), c)?;
        if !named.insert(c) {
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
    fn candidates_past_the_limit_are_refused_in_constant_time() {
        let long: Vec<i64> = (0..100_000).collect();
        let e = Ballot::new(None, Some(long), 1.0).unwrap_err();
        assert_eq!(e.to_string(), "ranking: at most 1024 allowed (candidates a ballot can name), got 100000");
        let e = Ballot::new(Some(vec![(1024, 1.0)]), None, 1.0).unwrap_err();
        assert_eq!(e.to_string(), "scores[1024]: must be in [0, 1023], got 1024");
        let e = Ballot::new(None, Some(vec![0, i64::MAX]), 1.0).unwrap_err();
        assert_eq!(e.arg, "ranking[1]");
        let full: Vec<i64> = (0..MAX_CANDIDATES as i64).rev().collect();
        assert_eq!(Ballot::new(None, Some(full), 1.0).unwrap().candidates().len(), MAX_CANDIDATES);
    }

    #[test]
    fn repeated_score_keys_name_the_smallest() {
        let e = Ballot::new(Some(vec![(5, 1.0), (2, 1.0), (5, 2.0), (2, 3.0)]), None, 1.0).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Duplicate(2));
    }

    #[test]
    fn standings_count_beaten_and_tied_in_one_pass() {
        let b =
            Ballot::new(Some(vec![(0, 2.0), (1, -0.0), (2, 0.0), (3, 2.0), (4, -1.0)]), None, 1.0).unwrap();
        let standings: Vec<_> = b.standings().collect();
        assert_eq!(standings, vec![(0, 3, 1), (3, 3, 1), (1, 1, 1), (2, 1, 1), (4, 0, 0)]);
    }

    #[test]
    fn unknown_candidate_is_located() {
        let b = Ballot::new(None, Some(vec![0, 7, 1]), 1.0).unwrap();
        let e = b.check_within(3).unwrap_err();
        assert_eq!(e.arg, "ranking[1]");
        assert_eq!(e.to_string(), "ranking[1]: candidate 7 out of range for n=3");
    }
}
