//! Lenient number parsing for Delta's payloads.
//!
//! Delta sends big decimals as strings (`"0.00120000"`), some ticker fields as JSON numbers
//! (`7.2e3`), and `null`, `""` or a missing key where there is no value. These visitors accept
//! every one of those forms without buffering, so decoding stays fast.

use std::fmt;
use std::str::FromStr;

use rust_decimal::prelude::FromPrimitive;
use rust_decimal::Decimal;
use serde::de::{self, Deserializer, Visitor};

struct DecimalVisitor;

impl<'de> Visitor<'de> for DecimalVisitor {
    type Value = Option<Decimal>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal number, a numeric string, or null")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let v = v.trim();
        if v.is_empty() {
            return Ok(None);
        }
        Decimal::from_str(v)
            .or_else(|_| Decimal::from_scientific(v))
            .map(Some)
            .map_err(|_| E::custom(format!("{v:?} is not a decimal number")))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(Decimal::from(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(Decimal::from(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        if !v.is_finite() {
            return Err(E::custom("non-finite number"));
        }
        Decimal::from_f64(v)
            .map(Some)
            .ok_or_else(|| E::custom(format!("{v} does not fit a decimal")))
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(DecimalVisitor)
    }
}

/// `Option<Decimal>` from a string, a number, `""` or `null`.
pub fn decimal_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    d.deserialize_option(DecimalVisitor)
}

struct IntVisitor;

impl<'de> Visitor<'de> for IntVisitor {
    type Value = Option<i64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer, an integer string, or null")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let v = v.trim();
        if v.is_empty() {
            return Ok(None);
        }
        v.parse()
            .map(Some)
            .map_err(|_| E::custom(format!("{v:?} is not an integer")))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        i64::try_from(v)
            .map(Some)
            .map_err(|_| E::custom(format!("{v} is too large")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        if v.fract() == 0.0 && v.abs() < 9.0e15 {
            Ok(Some(v as i64))
        } else {
            Err(E::custom(format!("{v} is not an integer")))
        }
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(IntVisitor)
    }
}

/// `Option<i64>` from an integer, an integer string, or `null` (ids, µs timestamps).
pub fn int_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    d.deserialize_option(IntVisitor)
}

struct IdVisitor;

impl<'de> Visitor<'de> for IdVisitor {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an id as a string or an integer")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok((!v.is_empty()).then(|| v.to_string()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(IdVisitor)
    }
}

/// An id that may be a string (`"e7ff05c2..."`) or an integer, as text.
pub fn id_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    d.deserialize_option(IdVisitor)
}

struct BoolVisitor;

impl<'de> Visitor<'de> for BoolVisitor {
    type Value = Option<bool>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a boolean or \"true\"/\"false\"")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        match v {
            "true" => Ok(Some(true)),
            "false" => Ok(Some(false)),
            "" => Ok(None),
            _ => Err(E::custom(format!("{v:?} is not a boolean"))),
        }
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(BoolVisitor)
    }
}

/// `Option<bool>` from a JSON boolean or the strings `"true"` / `"false"`.
pub fn bool_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    d.deserialize_option(BoolVisitor)
}

struct TimeVisitor;

impl<'de> Visitor<'de> for TimeVisitor {
    type Value = Option<chrono::DateTime<chrono::Utc>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an ISO-8601 time or microseconds since the epoch")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let v = v.trim();
        if v.is_empty() {
            return Ok(None);
        }
        if v.bytes().all(|b| b.is_ascii_digit()) {
            let n: i64 = v
                .parse()
                .map_err(|_| E::custom(format!("{v:?} is not a time")))?;
            return Ok(Some(micros_to_time(n)?));
        }
        chrono::DateTime::parse_from_rfc3339(v)
            .map(|t| Some(t.with_timezone(&chrono::Utc)))
            .map_err(|_| E::custom(format!("{v:?} is not an ISO-8601 time")))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        micros_to_time(v).map(Some)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        let v = i64::try_from(v).map_err(|_| E::custom("time out of range"))?;
        micros_to_time(v).map(Some)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(TimeVisitor)
    }
}

/// Microseconds since the epoch as a UTC time.
pub fn micros_to_time<E: de::Error>(us: i64) -> Result<chrono::DateTime<chrono::Utc>, E> {
    chrono::DateTime::from_timestamp_micros(us)
        .ok_or_else(|| E::custom(format!("{us} µs is out of range")))
}

/// A time given either as ISO-8601 text or as microseconds (number or string).
pub fn time_opt<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, D::Error> {
    d.deserialize_option(TimeVisitor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct T {
        #[serde(default, deserialize_with = "decimal_opt")]
        d: Option<Decimal>,
        #[serde(default, deserialize_with = "int_opt")]
        i: Option<i64>,
        #[serde(default, deserialize_with = "id_opt")]
        s: Option<String>,
        #[serde(default, deserialize_with = "bool_opt")]
        b: Option<bool>,
    }

    fn parse(j: &str) -> T {
        serde_json::from_str(j).expect(j)
    }

    #[test]
    fn every_form() {
        assert_eq!(parse(r#"{"d":"0.00120000"}"#).d, Some(Decimal::new(12, 4)));
        assert_eq!(parse(r#"{"d":7.2e3}"#).d, Some(Decimal::from(7200)));
        assert_eq!(parse(r#"{"d":12}"#).d, Some(Decimal::from(12)));
        assert_eq!(parse(r#"{"d":""}"#).d, None);
        assert_eq!(parse(r#"{"d":null}"#).d, None);
        assert_eq!(parse(r#"{}"#).d, None);
        assert_eq!(parse(r#"{"d":"1e-3"}"#).d, Some(Decimal::new(1, 3)));
        assert_eq!(
            parse(r#"{"i":"1773124199703012"}"#).i,
            Some(1_773_124_199_703_012)
        );
        assert_eq!(
            parse(r#"{"s":5471203388}"#).s.as_deref(),
            Some("5471203388")
        );
        assert_eq!(parse(r#"{"s":"e7ff05c2"}"#).s.as_deref(), Some("e7ff05c2"));
        assert_eq!(parse(r#"{"b":"false"}"#).b, Some(false));
        assert_eq!(parse(r#"{"b":true}"#).b, Some(true));
        assert!(serde_json::from_str::<T>(r#"{"d":"abc"}"#).is_err());
        assert!(serde_json::from_str::<T>(r#"{"b":"yes"}"#).is_err());
    }
}
