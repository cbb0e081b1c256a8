//! The PyO3 binding, and the only file that knows Python: read the arguments into Rust data (naming the
//! argument in any error), release the GIL for the work, and map `CoreError` to `ValueError` (or to
//! `MemoryError` for an allocation refused).
//!
//! Reading stays proportional to what the caller holds: texts are read in place rather than copied (a list
//! of a thousand references to one long string is one string), ballots are shared, and an argument with a
//! size limit is refused from its length before its items are copied.

use crate::aggregate::{self as agg, AggregateOptions, AggregationMethod};
use crate::alloc;
use crate::answer_key as keys;
use crate::ballot::{require_ballot_size, Ballot};
use crate::centrality as central;
use crate::clusters::{self, NearMethod, NearOptions, MINHASH_AUTO_COST_RATIO, MINHASH_AUTO_MIN_N};
use crate::error::{require_k, require_non_empty, CoreError};
use crate::kendall;
use crate::limits::MAX_CANDIDATES;
use crate::normalize as norm;
use crate::select;
use crate::shingle::ShingleKind;
use crate::similarity::{self, require_matrix_side};
use pyo3::exceptions::{PyMemoryError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use std::sync::Arc;

fn core_error(e: CoreError) -> PyErr {
    if e.is_out_of_memory() {
        PyMemoryError::new_err(e.to_string())
    } else {
        PyValueError::new_err(e.to_string())
    }
}

fn arg_error(arg: &str, detail: String) -> PyErr {
    PyValueError::new_err(format!("{arg}: {detail}"))
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "object".into())
}

/// Any number of items is fine.
fn unlimited(_: usize) -> Result<(), CoreError> {
    Ok(())
}

/// Items of a sequence argument whose count `allowed` must accept. A sized argument is judged by its length
/// before any item is read; past the limit an iterator's items are only counted, not kept, so the error
/// can say how many there were. A `str` is refused: it is iterable, but never meant as a list here.
fn items<'py>(
    obj: &Bound<'py, PyAny>,
    arg: &str,
    of: &str,
    allowed: impl Fn(usize) -> Result<(), CoreError>,
) -> PyResult<Vec<Bound<'py, PyAny>>> {
    let refuse = || arg_error(arg, format!("expected a sequence of {of}, got {}", type_name(obj)));
    if obj.is_instance_of::<PyString>() {
        return Err(refuse());
    }
    if let Ok(len) = obj.len() {
        allowed(len).map_err(core_error)?;
    }
    let (mut kept, mut count, mut over) = (Vec::new(), 0usize, false);
    for item in obj.try_iter().map_err(|_| refuse())? {
        let item = item?;
        count += 1;
        over = over || allowed(count).is_err();
        if over {
            kept = Vec::new();
        } else {
            alloc::push(&mut kept, arg, item).map_err(core_error)?;
        }
    }
    allowed(count).map_err(core_error)?;
    Ok(kept)
}

fn text_arg<'a>(obj: &'a Bound<'_, PyAny>, arg: &str) -> PyResult<&'a str> {
    obj.cast::<PyString>()
        .map_err(|_| arg_error(arg, format!("expected str, got {}", type_name(obj))))?
        .to_str()
        .map_err(|_| arg_error(arg, "must be valid Unicode (no lone surrogates)".into()))
}

/// The text objects of a list argument, checked to be `str`; `strs` then reads them in place.
fn texts_arg<'py>(
    obj: &Bound<'py, PyAny>,
    arg: &str,
    allowed: impl Fn(usize) -> Result<(), CoreError>,
) -> PyResult<Vec<Bound<'py, PyAny>>> {
    let texts = items(obj, arg, "str", allowed)?;
    require_non_empty(arg, &texts).map_err(core_error)?;
    Ok(texts)
}

/// The UTF-8 of each text, borrowed from the `str` objects (which outlive the call and never change).
fn strs<'a>(texts: &'a [Bound<'_, PyAny>], arg: &str) -> PyResult<Vec<&'a str>> {
    let mut out = alloc::with_capacity(arg, texts.len()).map_err(core_error)?;
    for (i, t) in texts.iter().enumerate() {
        out.push(text_arg(t, &format!("{arg}[{i}]"))?);
    }
    Ok(out)
}

fn float_arg(obj: &Bound<'_, PyAny>, arg: &str) -> PyResult<f64> {
    obj.extract::<f64>().map_err(|_| arg_error(arg, format!("expected a number, got {}", type_name(obj))))
}

fn floats_arg(
    obj: &Bound<'_, PyAny>,
    arg: &str,
    allowed: impl Fn(usize) -> Result<(), CoreError>,
) -> PyResult<Vec<f64>> {
    let items = items(obj, arg, "float", allowed)?;
    let mut out = alloc::with_capacity(arg, items.len()).map_err(core_error)?;
    for (i, v) in items.iter().enumerate() {
        out.push(float_arg(v, &format!("{arg}[{i}]"))?);
    }
    Ok(out)
}

/// A square matrix: rows and columns are each held to the matrix limit before they are copied, so a list
/// repeating one long row many times is refused, not multiplied out.
fn matrix_arg(obj: &Bound<'_, PyAny>, arg: &str) -> PyResult<Vec<Vec<f64>>> {
    items(obj, arg, "rows of float", |n| require_matrix_side(arg, n))?
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let row_arg = format!("{arg}[{i}]");
            floats_arg(row, &row_arg, |n| require_matrix_side(&row_arg, n))
        })
        .collect()
}

fn int_arg(obj: &Bound<'_, PyAny>, arg: &str) -> PyResult<i64> {
    obj.extract::<i64>().map_err(|_| arg_error(arg, format!("expected int, got {}", type_name(obj))))
}

fn count_arg(value: i64, arg: &str, min: i64) -> PyResult<usize> {
    if value < min {
        return Err(core_error(CoreError::out_of_range(arg, format!("[{min}, ∞)"), value)));
    }
    Ok(value as usize)
}

fn shingle_arg(name: &str) -> PyResult<ShingleKind> {
    ShingleKind::parse(name)
        .ok_or_else(|| arg_error("shingle", format!("must be 'word' or 'char', got {name:?}")))
}

#[pyfunction]
fn normalize(text: &Bound<'_, PyAny>) -> PyResult<String> {
    Ok(norm::normalize(text_arg(text, "text")?))
}

#[pyfunction]
fn fingerprint(text: &Bound<'_, PyAny>) -> PyResult<u128> {
    Ok(norm::fingerprint(text_arg(text, "text")?))
}

#[pyclass(frozen, name = "Clusters", module = "smoa_core_rs._core")]
struct PyClusters(clusters::Clusters);

#[pymethods]
impl PyClusters {
    #[getter]
    fn clusters(&self) -> Vec<Vec<usize>> {
        self.0.clusters.clone()
    }
    #[getter]
    fn representatives(&self) -> Vec<usize> {
        self.0.representatives()
    }
    #[getter]
    fn labels(&self) -> Vec<usize> {
        self.0.labels.clone()
    }
    #[getter]
    fn method(&self) -> &'static str {
        self.0.method.name()
    }
    #[getter]
    fn matrix(&self) -> Option<Vec<Vec<f64>>> {
        self.0.matrix.clone()
    }
    #[getter]
    fn pairs_compared(&self) -> u64 {
        self.0.pairs_compared
    }
    #[getter]
    fn removed(&self) -> usize {
        self.0.removed()
    }
    fn __len__(&self) -> usize {
        self.0.clusters.len()
    }
    fn __repr__(&self) -> String {
        format!("Clusters(method={:?}, clusters={:?})", self.0.method.name(), self.0.clusters)
    }
}

#[pyfunction]
fn dedup_exact(py: Python<'_>, texts: &Bound<'_, PyAny>) -> PyResult<PyClusters> {
    let texts = texts_arg(texts, "texts", unlimited)?;
    let texts = strs(&texts, "texts")?;
    py.detach(|| clusters::dedup_exact(&texts)).map(PyClusters).map_err(core_error)
}

#[pyfunction]
#[pyo3(signature = (texts, *, threshold=0.8, shingle="word", ngram=3, method="auto", with_matrix=false, num_perm=128, seed=0))]
// Each argument is one of the Python function's keyword arguments, so a struct would not shorten the API.
#[allow(clippy::too_many_arguments)]
fn dedup_near(
    py: Python<'_>,
    texts: &Bound<'_, PyAny>,
    threshold: f64,
    shingle: &str,
    ngram: i64,
    method: &str,
    with_matrix: bool,
    num_perm: i64,
    seed: u64,
) -> PyResult<PyClusters> {
    // The matrix is n×n: refuse too many texts before reading them.
    let texts =
        texts_arg(texts, "texts", |n| if with_matrix { require_matrix_side("texts", n) } else { Ok(()) })?;
    let texts = strs(&texts, "texts")?;
    let opts = NearOptions {
        threshold,
        shingle: shingle_arg(shingle)?,
        ngram: count_arg(ngram, "ngram", 1)?,
        method: NearMethod::parse(method).ok_or_else(|| {
            arg_error("method", format!("must be 'auto', 'exact' or 'minhash', got {method:?}"))
        })?,
        with_matrix,
        num_perm: count_arg(num_perm, "num_perm", 1)?,
        seed,
    };
    py.detach(|| clusters::dedup_near(&texts, &opts)).map(PyClusters).map_err(core_error)
}

#[pyfunction]
#[pyo3(signature = (texts, *, shingle="word", ngram=3))]
fn similarity_matrix(
    py: Python<'_>,
    texts: &Bound<'_, PyAny>,
    shingle: &str,
    ngram: i64,
) -> PyResult<Vec<Vec<f64>>> {
    let texts = texts_arg(texts, "texts", |n| require_matrix_side("texts", n))?;
    let texts = strs(&texts, "texts")?;
    let (kind, ngram) = (shingle_arg(shingle)?, count_arg(ngram, "ngram", 1)?);
    py.detach(|| similarity::similarity_matrix(&texts, kind, ngram)).map_err(core_error)
}

#[pyfunction]
fn answer_key(text: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
    Ok(keys::answer_key(text_arg(text, "text")?))
}

#[pyfunction]
fn answer_keys(py: Python<'_>, texts: &Bound<'_, PyAny>) -> PyResult<Vec<Option<String>>> {
    let texts = texts_arg(texts, "texts", unlimited)?;
    let texts = strs(&texts, "texts")?;
    Ok(py.detach(|| texts.iter().map(|t| keys::answer_key(t)).collect()))
}

#[pyclass(frozen, name = "Ballot", module = "smoa_core_rs._core")]
struct PyBallot(Arc<Ballot>);

#[pymethods]
impl PyBallot {
    #[new]
    #[pyo3(signature = (*, scores=None, ranking=None, weight=1.0))]
    fn new(
        scores: Option<&Bound<'_, PyAny>>,
        ranking: Option<&Bound<'_, PyAny>>,
        weight: f64,
    ) -> PyResult<Self> {
        let scores = scores.map(scores_arg).transpose()?;
        let ranking = ranking
            .map(|r| {
                items(r, "ranking", "int", |n| require_ballot_size("ranking", n))?
                    .iter()
                    .enumerate()
                    .map(|(i, c)| int_arg(c, &format!("ranking[{i}]")))
                    .collect::<PyResult<Vec<i64>>>()
            })
            .transpose()?;
        Ok(Self(Arc::new(Ballot::new(scores, ranking, weight).map_err(core_error)?)))
    }
    #[getter]
    fn scores<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let Some(scores) = &self.0.scores else { return Ok(None) };
        let dict = PyDict::new(py);
        for &(c, s) in scores {
            dict.set_item(c, s)?;
        }
        Ok(Some(dict))
    }
    #[getter]
    fn ranking(&self) -> Option<Vec<usize>> {
        self.0.ranking.clone()
    }
    #[getter]
    fn weight(&self) -> f64 {
        self.0.weight
    }
    #[getter]
    fn candidates(&self) -> Vec<usize> {
        self.0.candidates().to_vec()
    }
    fn __repr__(&self) -> String {
        let b = &self.0;
        let scores = match &b.scores {
            Some(s) => {
                format!("{{{}}}", s.iter().map(|(c, v)| format!("{c}: {v:?}")).collect::<Vec<_>>().join(", "))
            }
            None => "None".into(),
        };
        let ranking = b.ranking.as_ref().map_or("None".into(), |r| format!("{r:?}"));
        format!("Ballot(scores={scores}, ranking={ranking}, weight={:?})", b.weight)
    }
}

/// A mapping of candidate -> score, as (candidate, score) pairs in iteration order.
fn scores_arg(obj: &Bound<'_, PyAny>) -> PyResult<Vec<(i64, f64)>> {
    let refuse =
        || arg_error("scores", format!("expected a mapping of int to float, got {}", type_name(obj)));
    let pairs = match obj.cast::<PyDict>() {
        Ok(d) => {
            require_ballot_size("scores", d.len()).map_err(core_error)?;
            d.iter().collect::<Vec<_>>()
        }
        Err(_) => items(&obj.call_method0("items").map_err(|_| refuse())?, "scores", "(int, float)", |n| {
            require_ballot_size("scores", n)
        })?
        .iter()
        .map(|kv| kv.extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>().map_err(|_| refuse()))
        .collect::<PyResult<Vec<_>>>()?,
    };
    pairs
        .iter()
        .map(|(k, v)| {
            let c = k.extract::<i64>().map_err(|_| {
                arg_error("scores", format!("keys must be int candidate indices, got {}", type_name(k)))
            })?;
            Ok((c, float_arg(v, &format!("scores[{c}]"))?))
        })
        .collect()
}

/// The ballots, shared rather than copied: one ballot listed a million times is one ballot.
fn ballots_arg(obj: &Bound<'_, PyAny>) -> PyResult<Vec<Arc<Ballot>>> {
    items(obj, "ballots", "Ballot", unlimited)?
        .iter()
        .enumerate()
        .map(|(i, b)| {
            b.cast::<PyBallot>().map(|b| Arc::clone(&b.get().0)).map_err(|_| {
                arg_error(&format!("ballots[{i}]"), format!("expected Ballot, got {}", type_name(b)))
            })
        })
        .collect()
}

#[pyclass(frozen, name = "Aggregate", module = "smoa_core_rs._core")]
struct PyAggregate(agg::Aggregate);

#[pymethods]
impl PyAggregate {
    #[getter]
    fn method(&self) -> &'static str {
        self.0.method.name()
    }
    #[getter]
    fn scores(&self) -> Vec<f64> {
        self.0.scores.clone()
    }
    #[getter]
    fn ranking(&self) -> Vec<usize> {
        self.0.ranking.clone()
    }
    #[getter]
    fn copeland(&self) -> Vec<f64> {
        self.0.copeland.clone()
    }
    #[getter]
    fn mean_score(&self) -> Vec<f64> {
        self.0.mean_score.clone()
    }
    #[getter]
    fn seen(&self) -> Vec<usize> {
        self.0.seen.clone()
    }
    #[getter]
    fn kendall_w(&self) -> Option<f64> {
        self.0.kendall_w
    }
    #[getter]
    fn iterations(&self) -> usize {
        self.0.iterations
    }
    fn top(&self, k: i64) -> PyResult<Vec<usize>> {
        let k = require_k(k, self.0.ranking.len()).map_err(core_error)?;
        Ok(self.0.ranking[..k].to_vec())
    }
    fn __repr__(&self) -> String {
        format!(
            "Aggregate(method={:?}, ranking={:?}, scores={:?})",
            self.0.method.name(),
            self.0.ranking,
            self.0.scores
        )
    }
}

#[pyfunction]
#[pyo3(signature = (ballots, n, *, method="borda", rrf_k=60.0, bt_prior=0.5, bt_tol=1e-9, bt_max_iter=1000))]
// Each argument is one of the Python function's keyword arguments, so a struct would not shorten the API.
#[allow(clippy::too_many_arguments)]
fn aggregate(
    py: Python<'_>,
    ballots: &Bound<'_, PyAny>,
    n: i64,
    method: &str,
    rrf_k: f64,
    bt_prior: f64,
    bt_tol: f64,
    bt_max_iter: i64,
) -> PyResult<PyAggregate> {
    let ballots = ballots_arg(ballots)?;
    let method = AggregationMethod::parse(method).ok_or_else(|| {
        let names: Vec<&str> = AggregationMethod::ALL.iter().map(|m| m.name()).collect();
        arg_error("method", format!("must be one of {}, got {method:?}", names.join(", ")))
    })?;
    let opts = AggregateOptions {
        method,
        rrf_k,
        bt_prior,
        bt_tol,
        bt_max_iter: count_arg(bt_max_iter, "bt_max_iter", 1)?,
    };
    let n = count_arg(n, "n", 1)?;
    py.detach(|| agg::aggregate(&ballots, n, &opts)).map(PyAggregate).map_err(core_error)
}

#[pyfunction]
fn kendall_w(py: Python<'_>, ballots: &Bound<'_, PyAny>, n: i64) -> PyResult<Option<f64>> {
    let ballots = ballots_arg(ballots)?;
    let n = count_arg(n, "n", 1)?;
    py.detach(|| kendall::kendall_w(&ballots, n)).map_err(core_error)
}

#[pyfunction]
fn top_k(py: Python<'_>, scores: &Bound<'_, PyAny>, k: i64) -> PyResult<Vec<usize>> {
    let scores = floats_arg(scores, "scores", unlimited)?;
    py.detach(|| select::top_k(&scores, k)).map_err(core_error)
}

#[pyfunction]
#[pyo3(signature = (scores, similarity, k, *, lambda_=0.7))]
fn mmr_top_k(
    py: Python<'_>,
    scores: &Bound<'_, PyAny>,
    similarity: &Bound<'_, PyAny>,
    k: i64,
    lambda_: f64,
) -> PyResult<Vec<usize>> {
    // MMR needs a score per row of the matrix, so the scores share its limit.
    let scores = floats_arg(scores, "scores", |n| require_matrix_side("scores", n))?;
    let similarity = matrix_arg(similarity, "similarity")?;
    py.detach(|| select::mmr_top_k(&scores, &similarity, k, lambda_)).map_err(core_error)
}

#[pyclass(frozen, name = "Centrality", module = "smoa_core_rs._core")]
struct PyCentrality(central::Centrality);

#[pymethods]
impl PyCentrality {
    #[getter]
    fn scores(&self) -> Vec<f64> {
        self.0.scores.clone()
    }
    #[getter]
    fn ranking(&self) -> Vec<usize> {
        self.0.ranking.clone()
    }
    fn __repr__(&self) -> String {
        format!("Centrality(ranking={:?}, scores={:?})", self.0.ranking, self.0.scores)
    }
}

#[pyfunction]
fn centrality(py: Python<'_>, similarity: &Bound<'_, PyAny>) -> PyResult<PyCentrality> {
    let similarity = matrix_arg(similarity, "similarity")?;
    py.detach(|| central::centrality(&similarity)).map(PyCentrality).map_err(core_error)
}

#[pymodule]
#[pyo3(name = "_core")]
fn core_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    // Benchmarks refuse to time a debug build (benchmarks/release_core.py).
    m.add("BUILD", if cfg!(debug_assertions) { "debug" } else { "release" })?;
    m.add("MAX_CANDIDATES", MAX_CANDIDATES)?;
    m.add("MINHASH_AUTO_MIN_N", MINHASH_AUTO_MIN_N)?;
    m.add("MINHASH_AUTO_COST_RATIO", MINHASH_AUTO_COST_RATIO)?;
    m.add_class::<PyClusters>()?;
    m.add_class::<PyBallot>()?;
    m.add_class::<PyAggregate>()?;
    m.add_class::<PyCentrality>()?;
    m.add_function(wrap_pyfunction!(normalize, m)?)?;
    m.add_function(wrap_pyfunction!(fingerprint, m)?)?;
    m.add_function(wrap_pyfunction!(dedup_exact, m)?)?;
    m.add_function(wrap_pyfunction!(dedup_near, m)?)?;
    m.add_function(wrap_pyfunction!(similarity_matrix, m)?)?;
    m.add_function(wrap_pyfunction!(answer_key, m)?)?;
    m.add_function(wrap_pyfunction!(answer_keys, m)?)?;
    m.add_function(wrap_pyfunction!(aggregate, m)?)?;
    m.add_function(wrap_pyfunction!(kendall_w, m)?)?;
    m.add_function(wrap_pyfunction!(top_k, m)?)?;
    m.add_function(wrap_pyfunction!(mmr_top_k, m)?)?;
    m.add_function(wrap_pyfunction!(centrality, m)?)?;
    Ok(())
}
