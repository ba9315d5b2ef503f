//! The kinds of line in the audit trail ([`crate::ledger::AuditEvent`]).
//!
//! Each kind is written to the ledger, the API and Python as its snake_case name (`entry`,
//! `venue_stop`, ...), the same text as before the kinds were typed, so existing ledgers read
//! back unchanged. A name this version does not know (a ledger written by a newer one) reads
//! as [`EventKind::Unknown`] and keeps its text.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! kinds {
    ($($(#[$doc:meta])* $variant:ident => $name:literal,)+) => {
        /// What an audit line records.
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum EventKind {
            $($(#[$doc])* $variant,)+
            /// A kind this version does not know, as written.
            Unknown(String),
        }

        impl EventKind {
            /// Every known kind, in declaration order.
            pub const ALL: &'static [EventKind] = &[$(EventKind::$variant,)+];

            /// The kind's name in the ledger, the API and Python.
            pub fn as_str(&self) -> &str {
                match self {
                    $(EventKind::$variant => $name,)+
                    EventKind::Unknown(s) => s,
                }
            }

            /// The kind named `name`; [`EventKind::Unknown`] for a name not in the table.
            pub fn parse(name: &str) -> Self {
                match name {
                    $($name => EventKind::$variant,)+
                    other => EventKind::Unknown(other.to_string()),
                }
            }
        }
    };
}

kinds! {
    /// A strangle was entered.
    Entry => "entry",
    /// An entry window passed without an entry, with the reason.
    NoEntry => "no_entry",
    /// An entry started after its window's start (the engine was late).
    LateEntry => "late_entry",
    /// One leg filled and the other did not; the filled leg was unwound.
    PartialEntry => "partial_entry",
    /// An entry failed before any leg filled.
    FailedEntry => "failed_entry",
    /// A session's exit started, with the rule that fired.
    Exit => "exit",
    /// An exit started after its planned time (the engine was late).
    LateExit => "late_exit",
    /// One leg's exit started while the session stays open (a leg rule, or its venue stop
    /// under a policy that keeps the other leg).
    LegExit => "leg_exit",
    /// A leg closed alone is flat.
    LegClosed => "leg_closed",
    /// A leg's stop moved to its cost after the other leg's stop fired.
    LegAtCost => "leg_at_cost",
    /// A re-entry after a stop: allowed (when, until when), or entered.
    Reentry => "reentry",
    /// The account risk governor changed state (with the figures), or an engine applied it.
    AccountRisk => "account_risk",
    /// A leg was closed after the planned exit time.
    LateClose => "late_close",
    /// A session closed, with its PnL.
    Closed => "closed",
    /// A session's legs were settled at expiry.
    Settled => "settled",
    /// The trailing stop locked or raised its level.
    Trailing => "trailing",
    /// An operator command arrived.
    Command => "command",
    /// An exit found no fresh quote and began waiting for one.
    QuoteWait => "quote_wait",
    /// An exit began waiting because the venue takes no order on its contract.
    TradingHalt => "trading_halt",
    /// A venue-side protective stop filled.
    VenueStop => "venue_stop",
    /// A leg's venue stop was found gone while the leg is open.
    VenueStopLost => "venue_stop_lost",
    /// The venue refused a protective stop.
    VenueStopRefused => "venue_stop_refused",
    /// Both legs filled: the strangle is open.
    Open => "open",
    /// The venue rejected an order.
    OrderRejected => "order_rejected",
    /// Placing or reading an order failed.
    OrderError => "order_error",
    /// An order could not be cancelled and is held as stuck.
    OrderStuck => "order_stuck",
    /// A stuck or uncertain order's outcome was found.
    OrderResolved => "order_resolved",
    /// An order's outcome could not be found.
    OrderUnresolved => "order_unresolved",
    /// An order the ledger records is not visible at the venue yet.
    OrderNotVisible => "order_not_visible",
    /// An order's state could not be read.
    OrderUnreadable => "order_unreadable",
    /// A cancel was sent but not confirmed.
    CancelUnconfirmed => "cancel_unconfirmed",
    /// The venue reported an order the session does not know.
    UnknownOrder => "unknown_order",
    /// An exchange call failed.
    ExchangeError => "exchange_error",
    /// New entries were held (a stuck order, an unreadable book).
    EntriesHeld => "entries_held",
    /// Held entries were allowed again.
    EntriesResumed => "entries_resumed",
    /// A closed session's money differed from the venue's books; looked at again later.
    BooksRecheck => "books_recheck",
    /// A closed session's money agrees with the venue's fills and wallet.
    BooksAgree => "books_agree",
    /// A closed session's money differs from the venue's fills and wallet.
    BooksDiffer => "books_differ",
    /// The venue keeps no record to check a closed session's money against.
    BooksUnavailable => "books_unavailable",
    /// The venue's fills and wallet could not be read to check a session's money.
    BooksUnread => "books_unread",
    /// The engine restarted from the ledger.
    Restart => "restart",
    /// The engine did not start (recovery refused or failed).
    StartFailed => "start_failed",
    /// Recovery brought the ledger in line with the exchange.
    Reconciled => "reconciled",
    /// Recovery found a difference it refuses to trade on.
    ReconcileRefused => "reconcile_refused",
    /// A line that recurred, written once with its count.
    Repeated => "repeated",
    /// A backtest's data ended with a session open.
    DataEnd => "data_end",
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for EventKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(Self::parse(&s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_name() {
        let mut names = std::collections::BTreeSet::new();
        for k in EventKind::ALL {
            assert_eq!(&EventKind::parse(k.as_str()), k);
            let json = serde_json::to_string(k).expect("serializes");
            assert_eq!(json, format!("\"{}\"", k.as_str()));
            let back: EventKind = serde_json::from_str(&json).expect("deserializes");
            assert_eq!(&back, k);
            assert!(names.insert(k.as_str()), "{k} named twice");
            let snake = k
                .as_str()
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_');
            assert!(snake, "{k} is not snake_case");
        }
    }

    #[test]
    fn an_unknown_name_keeps_its_text() {
        let k: EventKind = serde_json::from_str("\"from_the_future\"").expect("deserializes");
        assert_eq!(k, EventKind::Unknown("from_the_future".into()));
        assert_eq!(
            serde_json::to_string(&k).expect("serializes"),
            "\"from_the_future\""
        );
    }
}
