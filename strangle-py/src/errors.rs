//! The package's exception types and the conversions from Rust errors to them.

use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

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
create_exception!(
    _strangle,
    LedgerError,
    pyo3::exceptions::PyRuntimeError,
    "A ledger that could not be opened or read."
);
create_exception!(
    _strangle,
    SessionError,
    pyo3::exceptions::PyRuntimeError,
    "A trading session that was refused, failed to start, or ended with an error."
);

/// A core error about a profile, with every bad field.
pub fn profile_error(e: strangle_core::Error) -> PyErr {
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

/// A core error about market data.
pub fn data_error(e: strangle_core::Error) -> PyErr {
    DataError::new_err(e.to_string())
}

/// A ledger error.
pub fn ledger_error(e: strangle_store::StoreError) -> PyErr {
    LedgerError::new_err(e.to_string())
}

/// A session error.
pub fn session_error(e: impl std::fmt::Display) -> PyErr {
    SessionError::new_err(e.to_string())
}

/// JSON text of a value.
pub fn to_json<T: serde::Serialize>(v: &T) -> PyResult<String> {
    serde_json::to_string(v).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// Registers the exception types on the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("ProfileError", py.get_type::<ProfileError>())?;
    m.add("DataError", py.get_type::<DataError>())?;
    m.add("BacktestError", py.get_type::<BacktestError>())?;
    m.add("LedgerError", py.get_type::<LedgerError>())?;
    m.add("SessionError", py.get_type::<SessionError>())?;
    Ok(())
}
