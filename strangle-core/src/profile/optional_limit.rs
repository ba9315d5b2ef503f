//! Serde for limits that are on by default and can be switched off: `"off"` (or JSON `null`)
//! means no limit, a number or numeric string sets it. TOML has no null, so `"off"` is how a
//! file says "no max profit" without the default coming back.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serializer};

/// Writes `None` as `"off"` and a value as the decimal itself (a decimal string in JSON and
/// TOML; handed over as `Some` so that a serializer that types decimals sees one).
pub fn serialize<S: Serializer>(v: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(d) => s.serialize_some(d),
        None => s.serialize_str("off"),
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Raw {
    Text(String),
    Int(i64),
    Float(f64),
    Off(bool),
}

/// Reads `"off"`, `false` or `null` as `None`, and a number or numeric string as a value.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    let raw: Option<Raw> = Option::deserialize(d)?;
    let bad =
        |what: &str| serde::de::Error::custom(format!("expected a number or \"off\", got {what}"));
    match raw {
        None | Some(Raw::Off(false)) => Ok(None),
        Some(Raw::Off(true)) => Err(bad("true")),
        Some(Raw::Text(t)) if t.trim().eq_ignore_ascii_case("off") => Ok(None),
        Some(Raw::Text(t)) => Decimal::from_str(t.trim())
            .map(Some)
            .map_err(|_| bad(&format!("{t:?}"))),
        Some(Raw::Int(i)) => Ok(Some(Decimal::from(i))),
        Some(Raw::Float(f)) => Decimal::try_from(f)
            .map(Some)
            .map_err(|_| bad(&f.to_string())),
    }
}
