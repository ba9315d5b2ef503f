//! Deterministic identifiers for sessions and orders.
//!
//! A session id is `<profile tag>-<YYMMDD>` (the IST trading day); an order's client id is
//! `<session id>-<C|P><E|X><attempt>`, e.g. `3f2a9c1b-260310-CE1`: at most 27 characters,
//! within Delta's limit of 32. The same session, leg, purpose and attempt always give the
//! same id, so replaying a decision can never send a second, different order.

use chrono::NaiveDate;

use crate::ledger::OrderPurpose;
use crate::model::OptionKind;

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

/// The client order id of one attempt (1-based) of one leg.
pub fn client_order_id(
    session_id: &str,
    leg: OptionKind,
    purpose: OrderPurpose,
    attempt: u32,
) -> String {
    let p = match purpose {
        OrderPurpose::Entry => 'E',
        OrderPurpose::Exit => 'X',
    };
    format!("{session_id}-{}{p}{attempt}", leg.letter())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_short_and_distinct() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 10).expect("date");
        let s = session_id("a profile with a very long name indeed", d);
        let id = client_order_id(&s, OptionKind::Put, OrderPurpose::Exit, 99_999);
        assert!(id.len() <= 32, "{id} is {} chars", id.len());
        assert_ne!(
            client_order_id(&s, OptionKind::Call, OrderPurpose::Entry, 1),
            client_order_id(&s, OptionKind::Put, OrderPurpose::Entry, 1)
        );
        assert_ne!(profile_tag("a"), profile_tag("b"));
        assert_eq!(profile_tag(""), "811c9dc5");
    }
}
