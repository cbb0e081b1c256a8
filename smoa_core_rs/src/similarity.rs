//! Validation shared by everything that takes a similarity matrix.

use crate::error::{require_finite, CoreError, ErrorKind, Result};

/// `matrix` must be n×n and finite.
pub fn check_square(matrix: &[Vec<f64>], n: usize) -> Result<()> {
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
