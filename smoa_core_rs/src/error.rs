//! The one error type of the core. Every failure but one is bad input, named by the argument it came from,
//! so the binding can map it to `ValueError` with a message that starts with that name. The exception is a
//! buffer the machine could not give (`OutOfMemory`), which the binding raises as `MemoryError`: the input
//! was within the limits, the process was not.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub struct CoreError {
    /// The argument, as the caller wrote it: `texts[3]`, `ballots[1].ranking[2]`, `threshold`.
    pub arg: String,
    pub kind: ErrorKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ErrorKind {
    Empty,
    NotFinite(f64),
    OutOfRange {
        allowed: String,
        got: String,
    },
    Duplicate(usize),
    UnknownCandidate {
        candidate: usize,
        n: usize,
    },
    Shape {
        expected: String,
        got: String,
    },
    /// More items than a documented limit allows; `got` is a count, or "more than ..." when the items were
    /// not all read.
    TooMany {
        limit: usize,
        got: String,
        why: &'static str,
    },
    OutOfMemory {
        bytes: u128,
    },
    Invalid(String),
}

impl CoreError {
    pub fn new(arg: impl Into<String>, kind: ErrorKind) -> Self {
        Self { arg: arg.into(), kind }
    }

    pub fn invalid(arg: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(arg, ErrorKind::Invalid(detail.into()))
    }

    pub fn out_of_range(arg: impl Into<String>, allowed: impl Into<String>, got: impl fmt::Display) -> Self {
        Self::new(arg, ErrorKind::OutOfRange { allowed: allowed.into(), got: got.to_string() })
    }

    pub fn too_many(arg: impl Into<String>, limit: usize, got: impl fmt::Display, why: &'static str) -> Self {
        Self::new(arg, ErrorKind::TooMany { limit, got: got.to_string(), why })
    }

    pub fn out_of_memory(arg: impl Into<String>, bytes: u128) -> Self {
        Self::new(arg, ErrorKind::OutOfMemory { bytes })
    }

    pub fn is_out_of_memory(&self) -> bool {
        matches!(self.kind, ErrorKind::OutOfMemory { .. })
    }

    /// Re-roots an error raised about a part (`ranking[2]`) under its container (`ballots[1]`).
    pub fn within(mut self, container: &str) -> Self {
        self.arg = format!("{container}.{}", self.arg);
        self
    }
}

impl fmt::Display for CoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.arg)?;
        match &self.kind {
            ErrorKind::Empty => write!(f, "must not be empty"),
            ErrorKind::NotFinite(v) => write!(f, "must be finite, got {}", python_float(*v)),
            ErrorKind::OutOfRange { allowed, got } => write!(f, "must be in {allowed}, got {got}"),
            ErrorKind::Duplicate(c) => write!(f, "candidate {c} appears more than once"),
            ErrorKind::UnknownCandidate { candidate, n } => {
                write!(f, "candidate {candidate} out of range for n={n}")
            }
            ErrorKind::Shape { expected, got } => write!(f, "expected {expected}, got {got}"),
            ErrorKind::TooMany { limit, got, why } => write!(f, "at most {limit} allowed ({why}), got {got}"),
            ErrorKind::OutOfMemory { bytes } => write!(f, "could not allocate {bytes} bytes"),
            ErrorKind::Invalid(detail) => write!(f, "{detail}"),
        }
    }
}

impl std::error::Error for CoreError {}

/// How Python prints a float, for messages Python users read (`nan`, `inf`, not Rust's `NaN`).
fn python_float(v: f64) -> String {
    match v {
        v if v.is_nan() => "nan".into(),
        v if v.is_infinite() => (if v > 0.0 { "inf" } else { "-inf" }).into(),
        v => format!("{v:?}"),
    }
}

pub type Result<T> = std::result::Result<T, CoreError>;

/// Checks that every value is finite; `arg` names the slice (`scores` -> `scores[2]`).
pub fn require_finite(arg: &str, values: &[f64]) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(CoreError::new(format!("{arg}[{i}]"), ErrorKind::NotFinite(values[i]))),
        None => Ok(()),
    }
}

pub fn require_non_empty<T>(arg: &str, values: &[T]) -> Result<()> {
    if values.is_empty() {
        Err(CoreError::new(arg, ErrorKind::Empty))
    } else {
        Ok(())
    }
}

/// `k` must name at most as many items as there are.
pub fn require_k(k: i64, n: usize) -> Result<usize> {
    if k < 0 || k as u64 > n as u64 {
        Err(CoreError::out_of_range("k", format!("[0, {n}]"), k))
    } else {
        Ok(k as usize)
    }
}

pub fn require_unit_interval(arg: &str, value: f64) -> Result<()> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(CoreError::out_of_range(arg, "[0, 1]", value))
    }
}
