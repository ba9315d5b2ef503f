//! Text forms of the core's enums as stored in the database (their serde names).

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::StoreError;

/// `SessionState::Open` → `"open"`, etc.
pub(crate) fn to_text<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// The reverse of [`to_text`].
pub(crate) fn from_text<T: DeserializeOwned>(
    s: &str,
    table: &'static str,
    column: &'static str,
) -> Result<T, StoreError> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).map_err(|e| {
        StoreError::Corrupt {
            table,
            column,
            reason: format!("{s:?}: {e}"),
        }
    })
}
