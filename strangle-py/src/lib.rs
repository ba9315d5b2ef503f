//! Python bindings for strangle (PyO3; the wheel is built by maturin from `pyproject.toml`).
//!
//! The native module `strangle._strangle` is small and typed by JSON: structured values cross
//! the boundary as JSON text in the core's own serde shapes (exact decimals as strings), and
//! the Python package `strangle` (in `python/`) turns them into Pythonic objects. Long calls
//! (backtests) release the GIL; every Rust error becomes a Python exception with its message.

use pyo3::create_exception;
use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use serde_json::{json, Value};
use strangle_core::backtest::{Backtest, BacktestResult, Report};
use strangle_core::data::{ChainFileFeed, ChainReader};
use strangle_core::model::{ChainSnapshot, OptionKind};
use strangle_core::pricing;
use strangle_core::profile::Profile;

create_exception!(
    _strangle,
    ProfileError,
    PyValueError,
    "An invalid profile: `args[0]` is the message, `args[1]` the list of (field, problem)."
);
create_exception!(
    _strangle,
    DataError,
    PyValueError,
    "Malformed market data (a chain file, a payload), naming the line and column."
);
create_exception!(
    _strangle,
    BacktestError,
    PyValueError,
    "A backtest that could not run."
);

fn profile_error(e: strangle_core::Error) -> PyErr {
    match e {
        strangle_core::Error::InvalidProfile(v) => {
            let fields: Vec<(String, String)> =
                v.0.iter()
                    .map(|f| (f.field.clone(), f.message.clone()))
                    .collect();
            ProfileError::new_err((format!("invalid profile: {v}"), fields))
        }
        other => ProfileError::new_err((other.to_string(), Vec::<(String, String)>::new())),
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> PyResult<String> {
    serde_json::to_string(v).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// A parsed profile, validated, as JSON; a parse error is reported on the field `body`.
fn checked_profile<E: std::fmt::Display>(parsed: Result<Profile, E>) -> PyResult<String> {
    let p = parsed.map_err(|e| {
        ProfileError::new_err((
            format!("invalid profile: {e}"),
            vec![("body".to_string(), e.to_string())],
        ))
    })?;
    p.validate().map_err(profile_error)?;
    to_json(&p)
}

/// Parses a profile from JSON text, validates it, and returns it as JSON (every default
/// filled in). Raises `ProfileError` listing every bad field.
#[pyfunction]
fn profile_from_json(text: &str) -> PyResult<String> {
    checked_profile(serde_json::from_str::<Profile>(text))
}

/// Parses a profile from TOML text, validates it, and returns it as JSON.
#[pyfunction]
fn profile_from_toml(text: &str) -> PyResult<String> {
    checked_profile(toml::from_str::<Profile>(text))
}

/// A profile as TOML text.
#[pyfunction]
fn profile_to_toml(json_text: &str) -> PyResult<String> {
    let p: Profile = serde_json::from_str(json_text)
        .map_err(|e| ProfileError::new_err((e.to_string(), Vec::<(String, String)>::new())))?;
    toml::to_string_pretty(&p).map_err(|e| PyValueError::new_err(e.to_string()))
}

fn kind(s: &str) -> PyResult<OptionKind> {
    match s {
        "call" | "c" | "C" => Ok(OptionKind::Call),
        "put" | "p" | "P" => Ok(OptionKind::Put),
        other => Err(PyValueError::new_err(format!(
            "option kind {other:?}: expected \"call\" or \"put\""
        ))),
    }
}

fn same_len(n: usize, lens: &[(&str, usize)]) -> PyResult<()> {
    for (name, len) in lens {
        if *len != n {
            return Err(PyValueError::new_err(format!(
                "{name} has {len} values, expected {n} (one per option)"
            )));
        }
    }
    Ok(())
}

/// Black-76 price and greeks (zero rates, 365-day years, vega per vol point, theta per day)
/// for many options: returns (price, delta, gamma, vega, theta) lists.
#[pyfunction]
#[allow(clippy::type_complexity)]
fn black76_many(
    kinds: Vec<String>,
    forward: Vec<f64>,
    strike: Vec<f64>,
    years: Vec<f64>,
    sigma: Vec<f64>,
) -> PyResult<(Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>)> {
    let n = kinds.len();
    same_len(
        n,
        &[
            ("forward", forward.len()),
            ("strike", strike.len()),
            ("years", years.len()),
            ("sigma", sigma.len()),
        ],
    )?;
    let mut out = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for i in 0..n {
        let g = pricing::black76(kind(&kinds[i])?, forward[i], strike[i], years[i], sigma[i]);
        out.0.push(g.price);
        out.1.push(g.delta);
        out.2.push(g.gamma);
        out.3.push(g.vega);
        out.4.push(g.theta);
    }
    Ok(out)
}

/// Implied volatilities for many prices; `None` where no volatility gives the price.
#[pyfunction]
fn implied_vol_many(
    kinds: Vec<String>,
    price: Vec<f64>,
    forward: Vec<f64>,
    strike: Vec<f64>,
    years: Vec<f64>,
) -> PyResult<Vec<Option<f64>>> {
    let n = kinds.len();
    same_len(
        n,
        &[
            ("price", price.len()),
            ("forward", forward.len()),
            ("strike", strike.len()),
            ("years", years.len()),
        ],
    )?;
    (0..n)
        .map(|i| {
            Ok(pricing::implied_vol(
                kind(&kinds[i])?,
                price[i],
                forward[i],
                strike[i],
                years[i],
            ))
        })
        .collect()
}

fn data_error(e: strangle_core::Error) -> PyErr {
    DataError::new_err(e.to_string())
}

fn open(path: &str) -> PyResult<std::io::BufReader<std::fs::File>> {
    std::fs::File::open(path)
        .map(|f| std::io::BufReader::with_capacity(1 << 16, f))
        .map_err(|e| PyOSError::new_err(format!("{path}: {e}")))
}

/// Every snapshot of a chain file, as a JSON list.
#[pyfunction]
fn read_chain_file(py: Python<'_>, path: &str) -> PyResult<String> {
    let f = open(path)?;
    let snaps: Vec<ChainSnapshot> = py.allow_threads(|| {
        ChainReader::new(f, path)
            .and_then(|r| r.collect::<Result<Vec<_>, _>>())
            .map_err(data_error)
    })?;
    to_json(&snaps)
}

/// Strike selection exactly as the engine does it: the chosen call and put, or the reason
/// nothing qualifies.
#[pyfunction]
fn select(chain_json: &str, profile_json: &str, now_rfc3339: &str) -> PyResult<String> {
    let chain: ChainSnapshot =
        serde_json::from_str(chain_json).map_err(|e| DataError::new_err(format!("chain: {e}")))?;
    let profile: Profile = serde_json::from_str(profile_json)
        .map_err(|e| ProfileError::new_err((e.to_string(), Vec::<(String, String)>::new())))?;
    profile.validate().map_err(profile_error)?;
    let now = chrono::DateTime::parse_from_rfc3339(now_rfc3339)
        .map_err(|_| PyValueError::new_err(format!("now: {now_rfc3339:?} is not RFC 3339")))?
        .with_timezone(&chrono::Utc);
    let v = match strangle_core::select::select(&chain, &profile, now) {
        Ok(s) => json!({"expiry": s.expiry, "call": s.call, "put": s.put, "reason": Value::Null}),
        Err(reason) => {
            json!({"expiry": Value::Null, "call": Value::Null, "put": Value::Null, "reason": reason.to_string()})
        }
    };
    to_json(&v)
}

fn run_backtest(bt: &Backtest, path: &str) -> PyResult<BacktestResult> {
    let reader = ChainReader::new(open(path)?, path).map_err(data_error)?;
    let feed = ChainFileFeed::new(reader);
    let error = feed.error_slot();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .map_err(|e| BacktestError::new_err(format!("cannot start a runtime: {e}")))?;
    let res = rt
        .block_on(bt.run(feed))
        .map_err(|e| BacktestError::new_err(e.to_string()))?;
    if let Some(e) = error.lock().ok().and_then(|mut e| e.take()) {
        return Err(data_error(e));
    }
    Ok(res)
}

/// Runs a backtest of a profile on a chain file, without the GIL. Returns the result and
/// its report as JSON: `{"result": ..., "report": ..., "html": ...}`.
#[pyfunction]
#[pyo3(signature = (profile_json, path, cash="10000", poll_seconds=60))]
fn backtest(
    py: Python<'_>,
    profile_json: &str,
    path: &str,
    cash: &str,
    poll_seconds: i64,
) -> PyResult<String> {
    let profile: Profile = serde_json::from_str(profile_json)
        .map_err(|e| ProfileError::new_err((e.to_string(), Vec::<(String, String)>::new())))?;
    profile.validate().map_err(profile_error)?;
    let cash: rust_decimal::Decimal = cash
        .parse()
        .map_err(|_| PyValueError::new_err(format!("cash: {cash:?} is not a number")))?;
    if poll_seconds < 1 {
        return Err(PyValueError::new_err("poll_seconds must be at least 1"));
    }
    let bt = Backtest {
        cash,
        poll: chrono::Duration::seconds(poll_seconds),
        ..Backtest::new(profile)
    };
    let path = path.to_string();
    let result = py.allow_threads(move || run_backtest(&bt, &path))?;
    let report = Report::new(&result);
    let html = report.to_html(&result);
    let csv = Report::legs_csv(&result);
    to_json(&json!({"result": result, "report": report, "html": html, "legs_csv": csv}))
}

/// The native part of the `strangle` package.
#[pymodule]
fn _strangle(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("ProfileError", m.py().get_type::<ProfileError>())?;
    m.add("DataError", m.py().get_type::<DataError>())?;
    m.add("BacktestError", m.py().get_type::<BacktestError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(profile_from_json, m)?)?;
    m.add_function(wrap_pyfunction!(profile_from_toml, m)?)?;
    m.add_function(wrap_pyfunction!(profile_to_toml, m)?)?;
    m.add_function(wrap_pyfunction!(black76_many, m)?)?;
    m.add_function(wrap_pyfunction!(implied_vol_many, m)?)?;
    m.add_function(wrap_pyfunction!(read_chain_file, m)?)?;
    m.add_function(wrap_pyfunction!(select, m)?)?;
    m.add_function(wrap_pyfunction!(backtest, m)?)?;
    Ok(())
}
