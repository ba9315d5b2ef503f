//! Reading and writing profile files (TOML or JSON, by extension).

use std::path::Path;

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

/// Reads and validates a profile file; every problem is named.
pub fn read(path: &Path) -> Result<Profile, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Invalid(format!("{}: {e}", path.display())))?;
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let p: Profile = if is_json {
        serde_json::from_str(&text)
            .map_err(|e| CliError::Invalid(format!("{}: {e}", path.display())))?
    } else {
        toml::from_str(&text).map_err(|e| CliError::Invalid(format!("{}: {e}", path.display())))?
    };
    p.validate()
        .map_err(|e| CliError::Invalid(format!("{}: {e}", path.display())))?;
    Ok(p)
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
