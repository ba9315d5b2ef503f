//! The package's exception classes, one per error kind of the fronts' one table
//! ([`ErrorKind::front`]), and the conversions from Rust errors to them.
//!
//! The classes are defined in Python (below) so that each can also be the standard exception
//! a Python user expects (`InvalidError` is a `ValueError`, `NotFoundError` a `LookupError`);
//! every one is a `StrangleError` with a `kind` attribute.

use std::ffi::CString;

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::GILOnceCell;
use pyo3::types::{PyModule, PyType};
use pyo3::PyErrArguments;
use strangle_core::error::{ErrorKind, Failure};

/// The classes, by the names the table gives (`ErrorKind::front().python_exception`), plus
/// the two kinds of invalid input that carry more (`ProfileError`, `DataError`).
const CLASSES: &str = r#"
class StrangleError(Exception):
    """Base of every strangle error; `kind` says which ("failed" for a fault while running)."""
    kind = "failed"

class InvalidError(StrangleError, ValueError):
    """Bad input: a profile, a file, an argument."""
    kind = "invalid"

class NotFoundError(StrangleError, LookupError):
    """Something named does not exist."""
    kind = "not_found"

class ConflictError(StrangleError):
    """The state forbids it: a duplicate name, a running or active profile."""
    kind = "conflict"

class LockedError(ConflictError):
    """Another runner (a process or a session) holds the profile's lease."""
    kind = "locked"

class RefusedError(StrangleError):
    """Refused for safety: live trading unconfirmed or without credentials, a ledger that
    disagrees with the exchange."""
    kind = "refused"

class ExchangeError(StrangleError):
    """The exchange refused or failed a call, or its outcome is unknown."""
    kind = "exchange"

class ProfileError(InvalidError):
    """An invalid profile: `args[0]` is the message, `fields` every (field, problem)."""

    @property
    def fields(self):
        return list(self.args[1]) if len(self.args) > 1 else []

class DataError(InvalidError):
    """Malformed market data (a chain file, a payload), naming the line and column."""
"#;

/// Every class's name, in the module.
pub const NAMES: [&str; 9] = [
    "StrangleError",
    "InvalidError",
    "NotFoundError",
    "ConflictError",
    "LockedError",
    "RefusedError",
    "ExchangeError",
    "ProfileError",
    "DataError",
];

static MODULE: GILOnceCell<Py<PyModule>> = GILOnceCell::new();

fn classes(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    MODULE
        .get_or_try_init(py, || {
            let code = CString::new(CLASSES).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
            let m = PyModule::from_code(py, &code, c"strangle_errors.py", c"strangle._errors")?;
            Ok(m.unbind())
        })
        .map(|m| m.bind(py))
}

fn raise<A: PyErrArguments + Send + Sync + 'static>(name: &str, args: A) -> PyErr {
    Python::with_gil(|py| {
        let class = classes(py)
            .and_then(|m| m.getattr(name))
            .and_then(|c| c.downcast_into::<PyType>().map_err(PyErr::from));
        match class {
            Ok(ty) => PyErr::from_type(ty, args),
            Err(e) => e,
        }
    })
}

/// The exception of `kind` (its class from the table) with `message`.
pub fn kind_error(kind: ErrorKind, message: impl Into<String>) -> PyErr {
    raise(kind.front().python_exception, message.into())
}

/// The exception for a Rust error, by its kind (every crate's error type says it through
/// the core's [`Failure`]); its text is the message.
pub fn error(e: impl Failure) -> PyErr {
    kind_error(e.error_kind(), e.to_string())
}

/// A core error about a profile: `ProfileError` with every bad field when it is one.
pub fn profile_error(e: strangle_core::Error) -> PyErr {
    match e {
        strangle_core::Error::InvalidProfile(v) => {
            let fields: Vec<(String, String)> =
                v.0.iter()
                    .map(|f| (f.field.clone(), f.message.clone()))
                    .collect();
            profile_fields_error(format!("invalid profile: {v}"), fields)
        }
        other => error(other),
    }
}

/// An invalid profile described by `message`, with every (field, problem) (`ProfileError`).
pub fn profile_fields_error(message: String, fields: Vec<(String, String)>) -> PyErr {
    raise("ProfileError", (message, fields))
}

/// A core error about market data (`DataError`).
pub fn data_error(e: strangle_core::Error) -> PyErr {
    data_error_text(e.to_string())
}

/// Malformed market data described by `message` (`DataError`).
pub fn data_error_text(message: String) -> PyErr {
    raise("DataError", message)
}

/// JSON text of a value.
pub fn to_json<T: serde::Serialize>(v: &T) -> PyResult<String> {
    serde_json::to_string(v).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// The table as `(kind, exit code, HTTP status, class name)` rows, for the package's tests.
#[pyfunction]
pub fn error_kinds() -> Vec<(&'static str, u8, u16, &'static str)> {
    ErrorKind::ALL
        .iter()
        .map(|k| {
            let f = k.front();
            (k.name(), f.exit_code, f.http_status, f.python_exception)
        })
        .collect()
}

/// Registers the exception classes and the table on the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let errors = classes(m.py())?;
    for name in NAMES {
        m.add(name, errors.getattr(name)?)?;
    }
    m.add_function(wrap_pyfunction!(error_kinds, m)?)?;
    Ok(())
}
