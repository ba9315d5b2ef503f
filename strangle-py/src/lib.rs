//! Python bindings for strangle (PyO3; the wheel is built by maturin from `pyproject.toml`).
//!
//! The native module `strangle._strangle` is small and typed by JSON: structured values cross
//! the boundary as JSON text in the core's own serde shapes (exact decimals as strings), and
//! the Python package `strangle` (in `python/`) turns them into Pythonic objects. Long calls
//! run without the GIL and Ctrl-C interrupts them ([`interrupt`]); every Rust error becomes a
//! Python exception with its message ([`errors`]).
//!
//! - [`profiles`]: parse, validate and write profiles;
//! - [`pricing`]: Black-76 and implied volatility over many options;
//! - [`chains`]: chain files, Delta payloads, strike selection;
//! - [`backtests`]: backtests and sweeps on recorded or synthetic data;
//! - [`ledger`]: a ledger read-only;
//! - [`sessions`]: sim, paper and live sessions, and the local Delta-compatible market.

use pyo3::prelude::*;

pub mod backtests;
pub mod chains;
pub mod errors;
pub mod interrupt;
pub mod ledger;
pub mod pricing;
pub mod profiles;
pub mod sessions;
pub mod topy;

/// The native part of the `strangle` package.
#[pymodule]
fn _strangle(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(profiles::profile_from_json, m)?)?;
    m.add_function(wrap_pyfunction!(profiles::profile_from_toml, m)?)?;
    m.add_function(wrap_pyfunction!(profiles::profile_from_file, m)?)?;
    m.add_function(wrap_pyfunction!(profiles::profile_to_toml, m)?)?;
    m.add_function(wrap_pyfunction!(profiles::profile_warnings, m)?)?;
    m.add_function(wrap_pyfunction!(profiles::profile_view, m)?)?;
    m.add_function(wrap_pyfunction!(pricing::black76_many, m)?)?;
    m.add_function(wrap_pyfunction!(pricing::implied_vol_many, m)?)?;
    m.add_function(wrap_pyfunction!(chains::read_chain_file, m)?)?;
    m.add_function(wrap_pyfunction!(chains::chain_from_delta, m)?)?;
    m.add_function(wrap_pyfunction!(chains::select, m)?)?;
    m.add_function(wrap_pyfunction!(chains::chain_view, m)?)?;
    m.add_function(wrap_pyfunction!(backtests::backtest, m)?)?;
    m.add_function(wrap_pyfunction!(backtests::backtest_portfolio, m)?)?;
    m.add_function(wrap_pyfunction!(backtests::sweep, m)?)?;
    m.add_function(wrap_pyfunction!(backtests::sweep_plan, m)?)?;
    m.add_function(wrap_pyfunction!(backtests::sweep_task, m)?)?;
    m.add_function(wrap_pyfunction!(backtests::sweep_rank, m)?)?;
    m.add_class::<ledger::NativeLedger>()?;
    m.add_class::<sessions::NativeSession>()?;
    m.add_class::<sessions::NativeLocalServer>()?;
    Ok(())
}
