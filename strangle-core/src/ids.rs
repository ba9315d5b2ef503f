//! Deterministic identifiers for sessions and orders.
//!
//! A session id is `<profile tag>-<YYMMDD>` (the IST trading day); an order's client id is
//! `<session id>-<C|P><E|X><attempt>`, e.g. `3f2a9c1b-260310-CE1`: at most 27 characters,
//! within Delta's limit of 32. The same session, leg, purpose and attempt always give the
//! same id, so replaying a decision can never send a second, different order.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::ledger::OrderPurpose;
use crate::model::OptionKind;

/// Longest client order id Delta accepts.
pub const CLIENT_ORDER_ID_MAX: usize = 32;

/// An order's client id: 1 to [`CLIENT_ORDER_ID_MAX`] characters, each a letter, a digit,
/// `-` or `_`. Delta documents only the length; the character set is ours, because the id
/// travels in URL paths (`/v2/orders/client_order_id/{id}`) and must need no escaping.
/// Checked once, when the id is made or read; everything that holds one can rely on it.
///
/// ```
/// use strangle_core::ids::ClientOrderId;
/// assert!(ClientOrderId::new("3f2a9c1b-260310-CE1").is_ok());
/// assert!(ClientOrderId::new("").is_err());
/// assert!(ClientOrderId::new("a/b").is_err());
/// assert!(ClientOrderId::new("x".repeat(33)).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct ClientOrderId(String);

/// Why a text is not a [`ClientOrderId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{id:?} is not a client order id: {reason}")]
pub struct InvalidClientOrderId {
    /// The text given.
    pub id: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl ClientOrderId {
    /// Checks `id` against the rule above.
    pub fn new(id: impl Into<String>) -> Result<Self, InvalidClientOrderId> {
        let id = id.into();
        let reason = if id.is_empty() {
            Some("empty")
        } else if id.len() > CLIENT_ORDER_ID_MAX {
            Some("longer than 32 characters")
        } else if !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            Some("only letters, digits, - and _ are allowed")
        } else {
            None
        };
        match reason {
            Some(reason) => Err(InvalidClientOrderId { id, reason }),
            None => Ok(Self(id)),
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The session part: everything before the last `-` (ids made by [`client_order_id`]).
    pub fn session_part(&self) -> &str {
        self.0.rsplit_once('-').map_or("", |(s, _)| s)
    }
}

impl std::ops::Deref for ClientOrderId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for ClientOrderId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for ClientOrderId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientOrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for ClientOrderId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for ClientOrderId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl std::str::FromStr for ClientOrderId {
    type Err = InvalidClientOrderId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl TryFrom<String> for ClientOrderId {
    type Error = InvalidClientOrderId;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl TryFrom<&str> for ClientOrderId {
    type Error = InvalidClientOrderId;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl<'de> Deserialize<'de> for ClientOrderId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::new(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// Eight hex digits identifying a profile name (FNV-1a, stable across runs and platforms).
pub fn profile_tag(name: &str) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in name.as_bytes() {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    format!("{h:08x}")
}

/// A venue product id for a contract symbol when the data has none (recorded or imported
/// chains): 64-bit FNV-1a of the symbol, stable across runs, files and platforms.
///
/// ```
/// use strangle_core::ids::product_id;
/// assert_eq!(product_id("C-BTC-90000-300126"), product_id("C-BTC-90000-300126"));
/// assert_ne!(product_id("C-BTC-90000-300126"), product_id("P-BTC-90000-300126"));
/// ```
pub fn product_id(symbol: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in symbol.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    // Keep ids exact in JSON numbers (53 bits).
    h & ((1 << 53) - 1)
}

/// Reads an optional client id where an empty text (or null) means none.
pub fn optional_client_order_id<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<ClientOrderId>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(s) if s.is_empty() => Ok(None),
        Some(s) => ClientOrderId::new(s)
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

/// The session id of a profile's entry on an IST trading day.
///
/// ```
/// use chrono::NaiveDate;
/// use strangle_core::ids::session_id;
/// let d = NaiveDate::from_ymd_opt(2026, 3, 10).unwrap();
/// assert_eq!(session_id("btc-daily", d), session_id("btc-daily", d));
/// assert!(session_id("btc-daily", d).ends_with("-260310"));
/// ```
pub fn session_id(profile: &str, day: NaiveDate) -> String {
    format!("{}-{}", profile_tag(profile), day.format("%y%m%d"))
}

/// The client order id of one attempt (1-based) of one leg. A session id made by
/// [`session_id`] gives at most 27 characters; a session id that would not (one read from
/// elsewhere) is an error, never a truncated id.
pub fn client_order_id(
    session_id: &str,
    leg: OptionKind,
    purpose: OrderPurpose,
    attempt: u32,
) -> Result<ClientOrderId, InvalidClientOrderId> {
    let p = match purpose {
        OrderPurpose::Entry => 'E',
        OrderPurpose::Exit => 'X',
    };
    ClientOrderId::new(format!("{session_id}-{}{p}{attempt}", leg.letter()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_short_and_distinct() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 10).expect("date");
        let s = session_id("a profile with a very long name indeed", d);
        let id = client_order_id(&s, OptionKind::Put, OrderPurpose::Exit, 99_999).expect("valid");
        assert!(id.len() <= 32, "{id} is {} chars", id.len());
        assert_ne!(
            client_order_id(&s, OptionKind::Call, OrderPurpose::Entry, 1).expect("valid"),
            client_order_id(&s, OptionKind::Put, OrderPurpose::Entry, 1).expect("valid")
        );
        assert_ne!(profile_tag("a"), profile_tag("b"));
        assert_eq!(profile_tag(""), "811c9dc5");
    }
}
