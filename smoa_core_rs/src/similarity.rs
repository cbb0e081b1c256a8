//! Similarity matrices: the one texts make, and the checks on one a caller gives. Both are n×n, so n is
//! held to `MAX_CANDIDATES` before anything is built or read.

use crate::alloc;
use crate::error::{require_finite, require_non_empty, CoreError, ErrorKind, Result};
use crate::jaccard::jaccard;
use crate::limits::MAX_CANDIDATES;
use crate::shingle::{shingle_sets, validate_shingling, ShingleKind, ShingleSets};

pub fn require_matrix_side(arg: &str, n: usize) -> Result<()> {
    if n > MAX_CANDIDATES {
        return Err(CoreError::too_many(arg, MAX_CANDIDATES, n, "a similarity matrix has n² entries"));
    }
    Ok(())
}

/// Exact pairwise Jaccard similarity of the texts' shingle sets, diagonal 1.0.
pub fn similarity_matrix<S: AsRef<str>>(
    texts: &[S],
    kind: ShingleKind,
    ngram: usize,
) -> Result<Vec<Vec<f64>>> {
    require_non_empty("texts", texts)?;
    require_matrix_side("texts", texts.len())?;
    validate_shingling(ngram)?;
    jaccard_matrix(&shingle_sets(texts, kind, ngram)?)
}

/// The texts' pairwise Jaccard matrix, diagonal 1.0 (texts with one set are 1.0 without a merge).
pub fn jaccard_matrix(sets: &ShingleSets) -> Result<Vec<Vec<f64>>> {
    let n = sets.of_text.len();
    require_matrix_side("texts", n)?;
    let mut m = alloc::with_capacity("texts", n)?;
    for _ in 0..n {
        m.push(alloc::filled("texts", n, 1.0)?);
    }
    for (i, &x) in sets.of_text.iter().enumerate() {
        for (j, &y) in sets.of_text.iter().enumerate().skip(i + 1) {
            if x != y {
                let s = jaccard(&sets.distinct[x], &sets.distinct[y]);
                m[i][j] = s;
                m[j][i] = s;
            }
        }
    }
    Ok(m)
}

/// `matrix` must be n×n (n at most `MAX_CANDIDATES`) and finite.
pub fn check_square(matrix: &[Vec<f64>], n: usize) -> Result<()> {
    require_matrix_side("similarity", matrix.len())?;
    if matrix.len() != n {
        return Err(CoreError::new(
            "similarity",
            ErrorKind::Shape { expected: format!("{n} rows"), got: matrix.len().to_string() },
        ));
    }
    for (i, row) in matrix.iter().enumerate() {
        if row.len() != n {
            return Err(CoreError::new(
                format!("similarity[{i}]"),
                ErrorKind::Shape { expected: format!("{n} columns"), got: row.len().to_string() },
            ));
        }
        require_finite(&format!("similarity[{i}]"), row)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sides_past_the_limit_are_refused_before_shingling() {
        let texts = vec!["same words here"; MAX_CANDIDATES + 1];
        let e = similarity_matrix(&texts, ShingleKind::Word, 3).unwrap_err();
        assert_eq!(
            e.to_string(),
            "texts: at most 1024 allowed (a similarity matrix has n² entries), got 1025"
        );
        let m = similarity_matrix(&texts[1..], ShingleKind::Word, 3).unwrap();
        assert!(m.len() == MAX_CANDIDATES && m.iter().all(|row| row.iter().all(|&s| s == 1.0)));
        let e = check_square(&vec![vec![]; MAX_CANDIDATES + 1], MAX_CANDIDATES + 1).unwrap_err();
        assert_eq!(e.arg, "similarity");
    }
}
