//! Reading and writing profile files (TOML or JSON, by extension).

use std::path::Path;

use strangle_core::profile::gates::{read_profile_fields, SKIP_DATES_FILE};
use strangle_core::profile::Profile;

use crate::error::CliError;

/// File formats of profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// TOML.
    Toml,
    /// JSON.
    Json,
}

/// Reads and validates a profile file; every problem is named. A `gates.skip_dates_file`
/// (a path relative to the profile file) adds that calendar's dates to `gates.skip_dates`.
pub fn read(path: &Path) -> Result<Profile, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| invalid(path, e))?;
    let p: Profile = if text.contains(SKIP_DATES_FILE) {
        let v = fields(path)?;
        serde_json::from_value(v).map_err(|e| invalid(path, e))?
    } else if is_json(path) {
        serde_json::from_str(&text).map_err(|e| invalid(path, e))?
    } else {
        toml::from_str(&text).map_err(|e| invalid(path, e))?
    };
    p.validate().map_err(|e| invalid(path, e))?;
    Ok(p)
}

/// A profile file as it is written (TOML or JSON, by extension), for merging onto a stored
/// profile: fields it leaves out keep their stored values (a calendar file is read in, as
/// by [`read`]).
pub fn read_patch(path: &Path) -> Result<serde_json::Value, CliError> {
    let v = fields(path)?;
    if !v.is_object() {
        return Err(CliError::Invalid(format!(
            "{}: a profile is a table of fields",
            path.display()
        )));
    }
    Ok(v)
}

fn invalid(path: &Path, e: impl std::fmt::Display) -> CliError {
    CliError::Invalid(format!("{}: {e}", path.display()))
}

fn is_json(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// The file's fields as JSON, with a calendar file named by `gates.skip_dates_file` read
/// in from beside the profile file.
fn fields(path: &Path) -> Result<serde_json::Value, CliError> {
    read_profile_fields(path).map_err(CliError::Invalid)
}

/// `stored` with the fields of `patch` laid over it, validated: what `configs update` and
/// the API's `PATCH /api/configs/{id}` both do (a field left out keeps its value).
pub fn patched(stored: &Profile, patch: serde_json::Value) -> Result<Profile, CliError> {
    let mut merged = serde_json::to_value(stored)
        .map_err(|e| CliError::Failed(format!("profile {} as JSON: {e}", stored.name)))?;
    merge(&mut merged, patch);
    let p: Profile =
        serde_json::from_value(merged).map_err(|e| CliError::Invalid(e.to_string()))?;
    p.validate()?;
    Ok(p)
}

/// Merges `patch` into `target` (RFC 7386, except that `null` sets a field to null — "off"
/// for a limit, none for an optional setting — instead of removing it): objects merge field
/// by field, anything else replaces.
pub fn merge(target: &mut serde_json::Value, patch: serde_json::Value) {
    use serde_json::Value;
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                match t.get_mut(&k) {
                    Some(slot) if v.is_object() && slot.is_object() => merge(slot, v),
                    _ => {
                        t.insert(k, v);
                    }
                }
            }
        }
        (t, p) => *t = p,
    }
}

/// Renders a profile.
pub fn render(p: &Profile, f: Format) -> Result<String, CliError> {
    match f {
        Format::Toml => toml::to_string_pretty(p).map_err(|e| CliError::Failed(e.to_string())),
        Format::Json => {
            serde_json::to_string_pretty(p).map_err(|e| CliError::Failed(e.to_string()))
        }
    }
}
