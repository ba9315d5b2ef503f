//! Deterministic identifiers for sessions and orders.
//!
//! A session id is `<profile tag>-<YYMMDD>` (the IST trading day); an order's client id is
//! `<session id>-<C|P><E|X><attempt>`, e.g. `3f2a9c1b-260310-CE1`: a session id is checked
//! to at most 19 characters, so a client id stays within Delta's limit of 32. The same session, leg, purpose and attempt always give the
//! same id, so replaying a decision can never send a second, different order.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::ledger::OrderPurpose;
use crate::model::OptionKind;

/// Longest client order id Delta accepts.
pub const CLIENT_ORDER_ID_MAX: usize = 32;

/// Longest session id: with the longest suffix [`client_order_id`] adds (`-CE` and a 10-digit
/// attempt) the client order id stays within [`CLIENT_ORDER_ID_MAX`].
pub const SESSION_ID_MAX: usize = 19;

/// Why a text is not an id of the kind named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{id:?} is not a {kind}: {reason}")]
pub struct InvalidId {
    /// Which kind of id: `client order id`, `session id`.
    pub kind: &'static str,
    /// The text given.
    pub id: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// Longest contract symbol accepted (Delta's are under 30 characters).
pub const SYMBOL_MAX: usize = 64;

/// What is wrong with `id` as an id of at most `max` characters, if anything: letters, digits,
/// `-` and `_` are allowed, and `.` where `dot` is set.
fn id_problem(id: &str, max: usize, dot: bool) -> Option<&'static str> {
    if id.is_empty() {
        Some("empty")
    } else if id.len() > max {
        Some("too long")
    } else if !id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || (dot && b == b'.'))
    {
        Some(if dot {
            "only letters, digits, -, _ and . are allowed"
        } else {
            "only letters, digits, - and _ are allowed"
        })
    } else {
        None
    }
}

/// A checked text id: 1 to `$max` letters, digits, `-` or `_` (and `.` where `$dot`),
/// checked by `new`, by parsing and by deserializing, and read as `&str` everywhere.
macro_rules! text_id {
    ($(#[$doc:meta])* $t:ident, $max:expr, $dot:literal, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(transparent)]
        pub struct $t(String);

        impl $t {
            /// Checks `id` against the rule above.
            pub fn new(id: impl Into<String>) -> Result<Self, InvalidId> {
                let id = id.into();
                match id_problem(&id, $max, $dot) {
                    Some(reason) => Err(InvalidId {
                        kind: $kind,
                        id,
                        reason,
                    }),
                    None => Ok(Self(id)),
                }
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::str::FromStr for $t {
            type Err = InvalidId;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }

        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Self::new(String::deserialize(d)?).map_err(serde::de::Error::custom)
            }
        }

        impl std::ops::Deref for $t {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $t {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $t {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $t {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $t {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl PartialEq<$t> for String {
            fn eq(&self, other: &$t) -> bool {
                *self == other.0
            }
        }

        impl PartialEq<$t> for str {
            fn eq(&self, other: &$t) -> bool {
                self == other.0
            }
        }

        impl From<$t> for String {
            fn from(id: $t) -> String {
                id.0
            }
        }
    };
}

text_id!(
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
    ClientOrderId,
    CLIENT_ORDER_ID_MAX,
    false,
    "client order id"
);

text_id!(
    /// A session's id: 1 to [`SESSION_ID_MAX`] letters, digits, `-` or `_` (ids made by
    /// [`session_id`] have 15: `3f2a9c1b-260310`). Checked once, when made or read, so every
    /// client order id made from it is valid.
    ///
    /// ```
    /// use strangle_core::ids::SessionId;
    /// assert!(SessionId::new("3f2a9c1b-260310").is_ok());
    /// assert!(SessionId::new("").is_err());
    /// assert!(SessionId::new("x".repeat(20)).is_err());
    /// ```
    SessionId,
    SESSION_ID_MAX,
    false,
    "session id"
);

text_id!(
    /// A contract's symbol on the venue (`C-BTC-90000-310125` on Delta, `BTC-28MAR25-90000-C`
    /// in Deribit's files): 1 to [`SYMBOL_MAX`] letters, digits, `-`, `_` or `.`. Checked once,
    /// where a symbol enters from outside (the venue's answers, data files, the operator), so
    /// it can go into a URL path or query unescaped.
    ///
    /// ```
    /// use strangle_core::ids::Symbol;
    /// assert!(Symbol::new("C-BTC-90000-310125").is_ok());
    /// assert!(Symbol::new("").is_err());
    /// assert!(Symbol::new("C-BTC-90000-310125&x=1").is_err());
    /// ```
    Symbol,
    SYMBOL_MAX,
    true,
    "contract symbol"
);

impl Symbol {
    /// A symbol this crate formatted itself from checked parts (an [`OptionSymbol`]'s text).
    ///
    /// [`OptionSymbol`]: crate::model::OptionSymbol
    pub(crate) fn from_formatted(s: String) -> Self {
        debug_assert!(id_problem(&s, SYMBOL_MAX, true).is_none(), "{s:?}");
        Self(s)
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

/// A venue's product id (Delta's `product_id`): the number a contract is traded under,
/// kept apart from sizes, prices and other ids by its type. It is a plain number in JSON,
/// the ledger and Python.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct ProductId(pub u64);

impl ProductId {
    /// The number.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ProductId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl From<u64> for ProductId {
    fn from(id: u64) -> Self {
        Self(id)
    }
}

impl std::str::FromStr for ProductId {
    type Err = std::num::ParseIntError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(Self)
    }
}

/// A venue product id for a contract symbol when the data has none (recorded or imported
/// chains): 64-bit FNV-1a of the symbol, stable across runs, files and platforms.
///
/// ```
/// use strangle_core::ids::product_id;
/// assert_eq!(product_id("C-BTC-90000-300126"), product_id("C-BTC-90000-300126"));
/// assert_ne!(product_id("C-BTC-90000-300126"), product_id("P-BTC-90000-300126"));
/// ```
pub fn product_id(symbol: &str) -> ProductId {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in symbol.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    // Keep ids exact in JSON numbers (53 bits).
    ProductId(h & ((1 << 53) - 1))
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
pub fn session_id(profile: &str, day: NaiveDate) -> SessionId {
    // Eight hex digits, `-` and six digits: always a valid id.
    SessionId(format!("{}-{}", profile_tag(profile), day.format("%y%m%d")))
}

/// The session id of the `n`-th re-entry (1-based) of a profile on an IST trading day: the
/// day's session id and `r<n>` (at most 19 characters for `n` up to 999).
///
/// ```
/// use chrono::NaiveDate;
/// use strangle_core::ids::{reentry_session_id, session_id};
/// let d = NaiveDate::from_ymd_opt(2026, 3, 10).unwrap();
/// let first = session_id("btc-daily", d);
/// assert_eq!(reentry_session_id("btc-daily", d, 2).as_str(), format!("{}r2", first.as_str()));
/// ```
pub fn reentry_session_id(profile: &str, day: NaiveDate, n: u32) -> SessionId {
    SessionId(format!("{}r{}", session_id(profile, day).0, n.min(999)))
}

/// The client order id of one attempt (1-based) of one leg: at most 19 + 3 + 10 = 32
/// characters of the allowed set, because the session id is checked.
pub fn client_order_id(
    session_id: &SessionId,
    leg: OptionKind,
    purpose: OrderPurpose,
    attempt: u32,
) -> ClientOrderId {
    let p = match purpose {
        OrderPurpose::Entry => 'E',
        OrderPurpose::Exit => 'X',
        OrderPurpose::Stop => 'S',
    };
    ClientOrderId(format!("{session_id}-{}{p}{attempt}", leg.letter()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_short_and_distinct() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 10).expect("date");
        let s = session_id("a profile with a very long name indeed", d);
        let id = client_order_id(&s, OptionKind::Put, OrderPurpose::Exit, u32::MAX);
        assert!(ClientOrderId::new(id.as_str()).is_ok(), "{id}");
        let longest = SessionId::new("s".repeat(SESSION_ID_MAX)).expect("valid");
        let id = client_order_id(&longest, OptionKind::Put, OrderPurpose::Entry, u32::MAX);
        assert!(ClientOrderId::new(id.as_str()).is_ok(), "{id}");
        assert!(id.len() <= 32, "{id} is {} chars", id.len());
        assert_ne!(
            client_order_id(&s, OptionKind::Call, OrderPurpose::Entry, 1),
            client_order_id(&s, OptionKind::Put, OrderPurpose::Entry, 1)
        );
        assert_ne!(profile_tag("a"), profile_tag("b"));
        assert_eq!(profile_tag(""), "811c9dc5");
    }
}
