//! Chains: read from chain files, built from Delta's REST payloads, and strike selection on
//! them exactly as the engine does it.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use serde::Serialize;
use strangle_core::data::source::open_reader;
use strangle_core::data::ChainReader;
use strangle_core::model::{ChainEntry, ChainSnapshot, Underlying};

use crate::errors::{data_error, data_error_text, to_json};
use crate::profiles;
use crate::topy::to_py;

/// Every snapshot of a chain file (`.gz` too), each as JSON (typed for Python on demand by
/// [`chain_view`]). Interruptible.
#[pyfunction]
pub fn read_chain_file(py: Python<'_>, path: String) -> PyResult<Vec<String>> {
    let snaps = crate::interrupt::run(py, move |cancel| {
        let reader = ChainReader::new(open_reader(std::path::Path::new(&path))?, path.clone())?;
        let mut out = Vec::new();
        for s in reader {
            if cancel.is_set() {
                break;
            }
            out.push(s?);
        }
        Ok::<_, strangle_core::Error>(out)
    })?
    .map_err(data_error)?;
    snaps.iter().map(to_json).collect()
}

/// A snapshot (as the JSON [`read_chain_file`] and [`chain_from_delta`] give) typed for
/// Python.
#[pyfunction]
pub fn chain_view(py: Python<'_>, chain_json: &str) -> PyResult<PyObject> {
    to_py(py, &parse_chain(chain_json)?)
}

fn parse_chain(chain_json: &str) -> PyResult<ChainSnapshot> {
    serde_json::from_str(chain_json).map_err(|e| data_error_text(format!("chain: {e}")))
}

/// The chain of `underlying` from a `/v2/tickers` payload and a `/v2/products` payload
/// (each the whole envelope or its `result` list), as JSON.
#[pyfunction]
pub fn chain_from_delta(tickers: &str, products: &str, underlying: &str) -> PyResult<String> {
    let underlying: Underlying = underlying.parse().map_err(|_| {
        PyValueError::new_err(format!("underlying {underlying:?}: expected BTC or ETH"))
    })?;
    let bad = |e: strangle_delta::DeltaError| data_error_text(e.to_string());
    let tickers = strangle_delta::chain::parse_quotes(tickers).map_err(bad)?;
    let products = strangle_delta::chain::parse_products(products).map_err(bad)?;
    let chain = strangle_delta::chain::chain_from(underlying, tickers, &products).map_err(bad)?;
    to_json(&chain)
}

/// Strike selection exactly as the engine does it: the chosen call and put, or the reason
/// nothing qualifies.
#[pyfunction]
pub fn select(
    py: Python<'_>,
    chain_json: &str,
    profile_json: &str,
    now_rfc3339: &str,
) -> PyResult<PyObject> {
    let chain = parse_chain(chain_json)?;
    let profile = profiles::parse(profile_json)?;
    let now = chrono::DateTime::parse_from_rfc3339(now_rfc3339)
        .map_err(|_| PyValueError::new_err(format!("now: {now_rfc3339:?} is not RFC 3339")))?
        .with_timezone(&chrono::Utc);
    #[derive(Serialize)]
    struct Picked {
        expiry: Option<chrono::DateTime<chrono::Utc>>,
        call: Option<ChainEntry>,
        put: Option<ChainEntry>,
        reason: Option<String>,
    }
    let v = match strangle_core::select::select(&chain, &profile, now) {
        Ok(s) => Picked {
            expiry: Some(s.expiry),
            call: Some(s.call),
            put: Some(s.put),
            reason: None,
        },
        Err(reason) => Picked {
            expiry: None,
            call: None,
            put: None,
            reason: Some(reason.to_string()),
        },
    };
    to_py(py, &v)
}
