//! Consensus centrality: the answer most like all the others. The judge's fallback when every LLM judge
//! fails, because agreement between independent agents is the best evidence left (never a random pick,
//! never the first).

use crate::error::{require_non_empty, Result};
use crate::select::rank_desc;
use crate::similarity::check_square;

#[derive(Debug, Clone, PartialEq)]
pub struct Centrality {
    pub scores: Vec<f64>,
    pub ranking: Vec<usize>,
}

pub fn centrality(similarity: &[Vec<f64>]) -> Result<Centrality> {
    require_non_empty("similarity", similarity)?;
    let n = similarity.len();
    check_square(similarity, n)?;
    let scores: Vec<f64> = similarity
        .iter()
        .enumerate()
        .map(|(i, row)| {
            if n == 1 {
                0.0
            } else {
                row.iter().enumerate().filter(|&(j, _)| j != i).map(|(_, s)| s).sum::<f64>() / (n - 1) as f64
            }
        })
        .collect();
    let ranking = rank_desc(&scores);
    Ok(Centrality { scores, ranking })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_closest_to_the_rest_ranks_first() {
        let sim = vec![vec![1.0, 0.2, 0.3], vec![0.2, 1.0, 0.9], vec![0.3, 0.9, 1.0]];
        let c = centrality(&sim).unwrap();
        assert_eq!(c.ranking, vec![2, 1, 0]);
        assert_eq!(c.scores, vec![0.25, 0.55, 0.6]);
        assert_eq!(centrality(&[vec![1.0]]).unwrap().scores, vec![0.0]);
    }

    #[test]
    fn ragged_matrix_is_named() {
        let e = centrality(&[vec![1.0, 0.0], vec![1.0]]).unwrap_err();
        assert_eq!(e.arg, "similarity[1]");
    }
}
