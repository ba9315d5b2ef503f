//! Profiles: parsed from JSON or TOML, validated by the engine's own rules, written as TOML.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use strangle_core::profile::Profile;

use crate::errors::{profile_error, profile_fields_error, to_json};

/// A profile from the package's JSON, validated (every bad field listed).
pub fn parse(profile_json: &str) -> PyResult<Profile> {
    let p: Profile = serde_json::from_str(profile_json).map_err(|e| {
        profile_fields_error(
            format!("invalid profile: {e}"),
            vec![("body".to_string(), e.to_string())],
        )
    })?;
    p.validate().map_err(profile_error)?;
    Ok(p)
}

/// A parsed profile, validated, as JSON; a parse error is reported on the field `body`.
fn checked<E: std::fmt::Display>(parsed: Result<Profile, E>) -> PyResult<String> {
    let p = parsed.map_err(|e| {
        profile_fields_error(
            format!("invalid profile: {e}"),
            vec![("body".to_string(), e.to_string())],
        )
    })?;
    p.validate().map_err(profile_error)?;
    to_json(&p)
}

/// Parses a profile from JSON text, validates it, and returns it as JSON (every default
/// filled in). Raises `ProfileError` listing every bad field.
#[pyfunction]
pub fn profile_from_json(text: &str) -> PyResult<String> {
    checked(serde_json::from_str::<Profile>(text))
}

/// Parses a profile from TOML text, validates it, and returns it as JSON.
#[pyfunction]
pub fn profile_from_toml(text: &str) -> PyResult<String> {
    checked(toml::from_str::<Profile>(text))
}

/// Reads a profile file (TOML, or JSON by extension; a `gates.skip_dates_file` calendar
/// beside it read in), validates it, and returns it as JSON.
#[pyfunction]
pub fn profile_from_file(path: std::path::PathBuf) -> PyResult<String> {
    let fields = strangle_core::profile::gates::read_profile_fields(&path).map_err(|e| {
        profile_fields_error(
            format!("invalid profile: {e}"),
            vec![("body".to_string(), e.clone())],
        )
    })?;
    checked(serde_json::from_value::<Profile>(fields))
}

/// Every setting of a profile (given as the package's JSON), typed for Python: decimals as
/// `Decimal`.
#[pyfunction]
pub fn profile_view(py: Python<'_>, json_text: &str) -> PyResult<PyObject> {
    crate::topy::to_py(py, &parse(json_text)?)
}

/// The profile's warnings (settings that are valid but probably not meant, the fee checks
/// included), as (field, message) pairs: what `strangle check`, `run` and the API say.
#[pyfunction]
pub fn profile_warnings(json_text: &str) -> PyResult<Vec<(String, String)>> {
    let p = parse(json_text)?;
    Ok(p.warnings()
        .into_iter()
        .chain(p.fee_warnings())
        .map(|w| (w.field, w.message))
        .collect())
}

/// A profile as TOML text.
#[pyfunction]
pub fn profile_to_toml(json_text: &str) -> PyResult<String> {
    let p = parse(json_text)?;
    toml::to_string_pretty(&p).map_err(|e| PyValueError::new_err(e.to_string()))
}
