//! A closed session's money checked against the venue's own books.
//!
//! The ledger books a session's fills as the venue reports them, so a difference means
//! something was lost, doubled or charged apart: a fill the ledger missed, a fill the venue
//! does not list, a fee the wallet charged on top of the fills' commissions (a tax on the
//! fee booked as its own row), a wallet row of a type this build does not know. After each
//! session ends (and so after an expiry, which ends a session held to it), the engine reads
//! the venue's fills and wallet rows on the session's contracts ([`crate::Execution::venue_activity`])
//! and [`compare`] sets them beside the ledger's; a difference beyond the tolerance is an
//! audit line (`books_differ`) and a notice.
//!
//! The ledger's fills are compared fill by fill (id, size, price, fee) with the venue's fills
//! of the session's orders and its settlement fills on the session's contracts; their sums,
//! before fees and in fees, with the wallet's rows on those contracts. A fill's cash is
//! `± price × size × contract size` (a sale credits, a buy debits; a settlement is a buy or
//! sell at the settlement value).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ids::{ProductId, SessionId, Symbol};
use crate::ledger::SessionRecord;
use crate::model::{Fill, Side, VenueActivity, WalletKind};

/// The default tolerance of each comparison, USD: Delta books amounts to 8 decimals and a
/// session has a handful of fills, so a cent is far beyond rounding.
pub const DEFAULT_TOLERANCE_USD: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

/// How far before a session's opening the venue's records are read: a fill stamped by
/// another clock can sit a little before the order that made it.
pub const WINDOW_LEAD_SECS: i64 = 60;

/// The outcome of one check of a session against the venue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reconciliation {
    /// The session checked.
    pub session_id: SessionId,
    /// When it was checked.
    pub at: DateTime<Utc>,
    /// The trades' cash by the ledger's fills, before fees, USD.
    pub ledger_cash: Decimal,
    /// Fees by the ledger's fills, USD.
    pub ledger_fees: Decimal,
    /// The trades' cash by the venue's fills, before fees, USD.
    pub venue_cash: Decimal,
    /// The venue's fills' commissions, USD.
    pub venue_fees: Decimal,
    /// The wallet's trade rows on the session's contracts, USD; `None` when the venue gave no
    /// wallet rows that name a contract.
    pub wallet_cash: Option<Decimal>,
    /// The wallet's fee rows on the session's contracts (commissions, rebates, taxes), USD,
    /// as a positive charge.
    pub wallet_fees: Option<Decimal>,
    /// Why the wallet was not compared, when it was not.
    pub wallet_note: Option<String>,
    /// What differs beyond the tolerance; empty when the books agree.
    pub differences: Vec<Difference>,
}

impl Reconciliation {
    /// Whether the ledger and the venue agree.
    pub fn agrees(&self) -> bool {
        self.differences.is_empty()
    }

    /// One line for the audit trail: the figures, then each difference.
    pub fn summary(&self) -> String {
        let wallet = match (self.wallet_cash, self.wallet_fees) {
            (Some(c), Some(f)) => format!("; wallet cash {c}, fees {f}"),
            _ => format!(
                "; wallet not compared ({})",
                self.wallet_note.as_deref().unwrap_or("no rows")
            ),
        };
        let mut s = format!(
            "session {}: ledger cash {}, fees {}; venue fills cash {}, fees {}{wallet}",
            self.session_id, self.ledger_cash, self.ledger_fees, self.venue_cash, self.venue_fees
        );
        if self.agrees() {
            s.push_str("; the books agree");
        } else {
            let d: Vec<String> = self.differences.iter().map(ToString::to_string).collect();
            s.push_str("; differences: ");
            s.push_str(&d.join("; "));
        }
        s
    }
}

/// One way the ledger and the venue disagree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Difference {
    /// The venue lists a fill of the session that the ledger does not have.
    UnbookedFill {
        /// The venue's fill id.
        fill_id: String,
        /// Contract.
        symbol: Symbol,
        /// Contracts.
        size: Decimal,
        /// Price.
        price: Decimal,
    },
    /// The ledger has a fill that the venue does not list.
    UnknownFill {
        /// The fill id recorded.
        fill_id: String,
        /// Contract.
        symbol: Symbol,
        /// Contracts.
        size: Decimal,
        /// Price.
        price: Decimal,
    },
    /// Both have the fill, with a different size, price or fee.
    FillDiffers {
        /// The fill id.
        fill_id: String,
        /// `size`, `price` or `fee`.
        field: String,
        /// The ledger's figure.
        ledger: Decimal,
        /// The venue's figure.
        venue: Decimal,
    },
    /// The wallet's trade cash on the session's contracts is not the ledger's.
    WalletCash {
        /// The ledger's trades' cash.
        ledger: Decimal,
        /// The wallet's.
        venue: Decimal,
    },
    /// The wallet charged other fees than the ledger booked (e.g. a tax on the fee booked as
    /// its own row, which the fills' commissions leave out).
    WalletFees {
        /// The ledger's fees.
        ledger: Decimal,
        /// The wallet's.
        venue: Decimal,
    },
    /// A wallet row on a session contract of a type this build does not know.
    UnknownWalletRow {
        /// The row's id.
        id: String,
        /// Its type as the venue names it.
        venue_type: String,
        /// Its amount.
        amount: Decimal,
    },
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UnbookedFill {
                fill_id,
                symbol,
                size,
                price,
            } => write!(
                f,
                "the venue has fill {fill_id} ({size} {symbol} at {price}) that the ledger does not"
            ),
            Self::UnknownFill {
                fill_id,
                symbol,
                size,
                price,
            } => write!(
                f,
                "the ledger has fill {fill_id} ({size} {symbol} at {price}) that the venue does not list"
            ),
            Self::FillDiffers {
                fill_id,
                field,
                ledger,
                venue,
            } => write!(f, "fill {fill_id}: {field} {ledger} in the ledger, {venue} at the venue"),
            Self::WalletCash { ledger, venue } => write!(
                f,
                "the wallet's trade cash is {venue} USD, the ledger's {ledger} USD (off by {})",
                venue - ledger
            ),
            Self::WalletFees { ledger, venue } => {
                write!(
                    f,
                    "the wallet charged {venue} USD in fees, the ledger booked {ledger} USD (off by {})",
                    venue - ledger
                )?;
                if *ledger > Decimal::ZERO && venue > ledger {
                    let pct = ((venue - ledger) / ledger * Decimal::ONE_HUNDRED).round_dp(2);
                    write!(
                        f,
                        ": {pct} % on top of the fills' commissions, as a tax charged apart would be"
                    )?;
                }
                Ok(())
            }
            Self::UnknownWalletRow {
                id,
                venue_type,
                amount,
            } => write!(
                f,
                "wallet row {id} of type {venue_type:?} ({amount} USD) is of a kind this build does not know"
            ),
        }
    }
}

/// A fill's cash before fees: a sale credits, a buy debits.
fn cash_of(f: &Fill, contract_size: Decimal) -> Decimal {
    let v = f.price * f.size * contract_size;
    match f.side {
        Side::Sell => v,
        Side::Buy => -v,
    }
}

/// Whether a venue fill belongs to `session`: one of its orders, or a settlement on one of
/// its contracts.
fn of_session(f: &Fill, session: &SessionRecord) -> bool {
    match &f.client_order_id {
        Some(id) => id
            .as_str()
            .strip_prefix(session.session_id.as_str())
            .is_some_and(|rest| rest.starts_with('-')),
        None => session.legs.iter().any(|l| l.symbol == f.symbol),
    }
}

/// Sets the ledger's fills of `session` beside the venue's record of its contracts: a fill
/// on one side only, a size or price that differs, a fee or a wallet sum off by more than
/// `tolerance` (USD) is a difference.
pub fn compare(
    session: &SessionRecord,
    ledger_fills: &[Fill],
    venue: &VenueActivity,
    tolerance: Decimal,
    at: DateTime<Utc>,
) -> Reconciliation {
    let sizes: HashMap<&Symbol, Decimal> = session
        .legs
        .iter()
        .map(|l| (&l.symbol, l.contract_size))
        .collect();
    let ids: Vec<ProductId> = session.legs.iter().map(|l| l.product_id).collect();
    let size_of = |s: &Symbol| sizes.get(s).copied().unwrap_or(Decimal::ONE);
    let since = session.opened_at - chrono::Duration::seconds(WINDOW_LEAD_SECS);
    let venue_fills: Vec<&Fill> = venue
        .fills
        .iter()
        .filter(|f| f.timestamp >= since && of_session(f, session))
        .collect();
    let sum = |v: &mut dyn Iterator<Item = &Fill>| -> (Decimal, Decimal) {
        v.fold((Decimal::ZERO, Decimal::ZERO), |(c, fee), f| {
            (c + cash_of(f, size_of(&f.symbol)), fee + f.fee)
        })
    };
    let (ledger_cash, ledger_fees) = sum(&mut ledger_fills.iter());
    let (venue_cash, venue_fees) = sum(&mut venue_fills.iter().copied());

    let mut differences = Vec::new();
    let ledger_by_id: BTreeMap<&str, &Fill> = ledger_fills
        .iter()
        .map(|f| (f.fill_id.as_str(), f))
        .collect();
    let venue_by_id: BTreeMap<&str, &Fill> = venue_fills
        .iter()
        .map(|f| (f.fill_id.as_str(), *f))
        .collect();
    for (id, v) in &venue_by_id {
        match ledger_by_id.get(id) {
            None => differences.push(Difference::UnbookedFill {
                fill_id: (*id).to_string(),
                symbol: v.symbol.clone(),
                size: v.size,
                price: v.price,
            }),
            Some(l) => {
                for (field, a, b) in [
                    ("size", l.size, v.size),
                    ("price", l.price, v.price),
                    ("fee", l.fee, v.fee),
                ] {
                    if (a - b).abs() > tolerance || (field != "fee" && a != b) {
                        differences.push(Difference::FillDiffers {
                            fill_id: (*id).to_string(),
                            field: field.into(),
                            ledger: a,
                            venue: b,
                        });
                    }
                }
            }
        }
    }
    for (id, l) in &ledger_by_id {
        if !venue_by_id.contains_key(id) {
            differences.push(Difference::UnknownFill {
                fill_id: (*id).to_string(),
                symbol: l.symbol.clone(),
                size: l.size,
                price: l.price,
            });
        }
    }

    let (mut wallet_cash, mut wallet_fees, mut wallet_note) = (None, None, None);
    match &venue.wallet {
        None => wallet_note = Some("the venue keeps no wallet ledger it can give".into()),
        Some(rows) => {
            let in_window = rows
                .iter()
                .filter(|r| r.at >= since && !matches!(r.kind, WalletKind::Transfer));
            let (mut cash, mut fees, mut named, mut unnamed) =
                (Decimal::ZERO, Decimal::ZERO, 0usize, 0usize);
            for r in in_window {
                if r.symbol.is_none() && r.product_id.is_none() {
                    unnamed += 1;
                    continue;
                }
                let ours = r.symbol.as_ref().is_some_and(|s| sizes.contains_key(s))
                    || r.product_id.is_some_and(|id| ids.contains(&id));
                if !ours {
                    continue;
                }
                named += 1;
                match &r.kind {
                    WalletKind::Cash => cash += r.amount,
                    WalletKind::Fee => fees -= r.amount,
                    WalletKind::Unknown(t) => differences.push(Difference::UnknownWalletRow {
                        id: r.id.clone(),
                        venue_type: t.clone(),
                        amount: r.amount,
                    }),
                    WalletKind::Transfer => {}
                }
            }
            if named == 0 {
                wallet_note = Some(if unnamed > 0 {
                    format!(
                        "{unnamed} trade rows in the window name no contract, so they cannot be \
                         told from other sessions'"
                    )
                } else {
                    "the wallet has no rows on the session's contracts".into()
                });
            } else {
                if (cash - ledger_cash).abs() > tolerance {
                    differences.push(Difference::WalletCash {
                        ledger: ledger_cash,
                        venue: cash,
                    });
                }
                if (fees - ledger_fees).abs() > tolerance {
                    differences.push(Difference::WalletFees {
                        ledger: ledger_fees,
                        venue: fees,
                    });
                }
                wallet_cash = Some(cash);
                wallet_fees = Some(fees);
            }
        }
    }
    Reconciliation {
        session_id: session.session_id.clone(),
        at,
        ledger_cash,
        ledger_fees,
        venue_cash,
        venue_fees,
        wallet_cash,
        wallet_fees,
        wallet_note,
        differences,
    }
}

/// Seconds after a session closes before its money is checked: the venue's wallet may book
/// a little after the fills.
pub const FIRST_CHECK_SECS: i64 = 60;

/// Seconds after a check that found a difference before the second and last one (a row
/// booked late is not a difference).
pub const RECHECK_SECS: i64 = 240;

/// Checks in a row the venue may fail to answer before the session is reported unchecked.
pub const MAX_TRIES: u32 = 5;

/// A check waiting for its time.
#[derive(Debug, Clone)]
pub struct Due {
    /// The closed session.
    pub session: SessionRecord,
    /// When to check.
    pub at: DateTime<Utc>,
    /// Reads the venue failed so far.
    pub failed: u32,
    /// Whether an earlier check found a difference.
    pub differed: bool,
}

/// Which closed sessions are to be checked, and when. Pure: the engine feeds it what the
/// strategy shows each step and does the reading.
#[derive(Debug, Clone)]
pub struct Checks {
    /// Tolerance of each comparison, USD.
    pub tolerance: Decimal,
    watching: Option<SessionId>,
    due: Vec<Due>,
    /// The latest outcome.
    pub last: Option<Reconciliation>,
}

impl Checks {
    /// No check due yet; sums compared within `tolerance` USD.
    pub fn new(tolerance: Decimal) -> Self {
        Self {
            tolerance,
            watching: None,
            due: Vec::new(),
            last: None,
        }
    }

    /// Notes the strategy's live session; a session seen live that has since closed is due
    /// for a check [`FIRST_CHECK_SECS`] later. (A session closed before it was seen here is
    /// not, unless [`Checks::schedule`] is asked: the engine does so for one that recovery
    /// closed at start.)
    pub fn observe(
        &mut self,
        live: Option<&SessionRecord>,
        last_closed: Option<&SessionRecord>,
        now: DateTime<Utc>,
    ) {
        let live_id = live.map(|s| s.session_id.clone());
        if let Some(watched) = self.watching.take() {
            if live_id.as_ref() != Some(&watched) {
                if let Some(closed) = last_closed.filter(|s| s.session_id == watched) {
                    let at = now + chrono::Duration::seconds(FIRST_CHECK_SECS);
                    self.schedule(closed.clone(), at);
                }
            }
        }
        self.watching = live_id;
    }

    /// The checks due at `now` (every one waiting, with `all`), taken out.
    pub fn take_due(&mut self, now: DateTime<Utc>, all: bool) -> Vec<Due> {
        let (due, wait): (Vec<Due>, Vec<Due>) =
            self.due.drain(..).partition(|d| all || d.at <= now);
        self.due = wait;
        due
    }

    /// Checks `session` at `at` (one that closed without being seen live here: recovery
    /// closed it at start).
    pub fn schedule(&mut self, session: SessionRecord, at: DateTime<Utc>) {
        self.due.push(Due {
            session,
            at,
            failed: 0,
            differed: false,
        });
    }

    /// Puts a check back to be tried again at `at`.
    pub fn again(&mut self, mut d: Due, at: DateTime<Utc>) {
        d.at = at;
        self.due.push(d);
    }

    /// Whether a check is waiting.
    pub fn pending(&self) -> bool {
        !self.due.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ClientOrderId;
    use crate::ledger::{LegRecord, Mode, SessionState};
    use crate::model::{OptionKind, Underlying, WalletEntry};
    use crate::pnl::{LegBook, SessionPnl};
    use chrono::TimeZone;
    use rust_decimal_macros::dec;

    fn t(min: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 10, 4, 0, 0)
            .single()
            .expect("t")
            + chrono::Duration::minutes(min)
    }

    fn sym(s: &str) -> Symbol {
        Symbol::new(s).expect("symbol")
    }

    fn leg(kind: OptionKind, symbol: &str, id: u64) -> LegRecord {
        LegRecord {
            kind,
            symbol: sym(symbol),
            product_id: ProductId(id),
            strike: dec!(84000),
            contract_size: dec!(0.001),
            tick_size: dec!(0.1),
            target: dec!(10),
            entry_delta: None,
            book: LegBook::default(),
            mark: None,
            entry_attempts: 1,
            exit_attempts: 1,
            stop_attempts: 0,
            stop_price: None,
            exit_reason: None,
            stop_at_cost: false,
        }
    }

    fn session() -> SessionRecord {
        SessionRecord {
            session_id: SessionId::new("ab12cd34-260310").expect("id"),
            profile: "p".into(),
            underlying: Underlying::Btc,
            mode: Mode::Live,
            trading_day: t(0).date_naive(),
            state: SessionState::Closed,
            opened_at: t(0),
            closed_at: Some(t(120)),
            expiry: t(480),
            planned_exit: t(120),
            entry_spot: None,
            legs: vec![
                leg(OptionKind::Call, "C-BTC-84000-100326", 1),
                leg(OptionKind::Put, "P-BTC-80000-100326", 2),
            ],
            exit_reason: None,
            pnl: SessionPnl::default(),
            trailing_level: None,
            peak_pnl_pct: None,
            trough_pnl_pct: None,
            reentry_of: None,
            reentry: 0,
        }
    }

    fn fill(id: &str, coid: &str, symbol: &str, side: Side, price: Decimal) -> Fill {
        Fill {
            fill_id: id.into(),
            client_order_id: Some(ClientOrderId::new(coid).expect("coid")),
            symbol: sym(symbol),
            side,
            size: dec!(10),
            price,
            fee: dec!(0.25),
            timestamp: t(5),
        }
    }

    /// A strangle sold and bought back: call 500 → 300, put 400 → 200 (10 contracts of
    /// 0.001 BTC): cash (5 + 4) − (3 + 2) = 4 USD, fees 1 USD.
    fn ledger_fills() -> Vec<Fill> {
        let s = "ab12cd34-260310";
        vec![
            fill(
                "f1",
                &format!("{s}-CE1"),
                "C-BTC-84000-100326",
                Side::Sell,
                dec!(500),
            ),
            fill(
                "f2",
                &format!("{s}-PE1"),
                "P-BTC-80000-100326",
                Side::Sell,
                dec!(400),
            ),
            fill(
                "f3",
                &format!("{s}-CX1"),
                "C-BTC-84000-100326",
                Side::Buy,
                dec!(300),
            ),
            fill(
                "f4",
                &format!("{s}-PX1"),
                "P-BTC-80000-100326",
                Side::Buy,
                dec!(200),
            ),
        ]
    }

    /// The wallet rows the fills make: a cashflow and a commission each, and with `tax` a
    /// tax row of its own that the commission leaves out.
    fn wallet(fills: &[Fill], tax: Option<Decimal>) -> Vec<WalletEntry> {
        let mut out = Vec::new();
        for f in fills {
            let cash = cash_of(f, dec!(0.001));
            let row =
                |suffix: &str, kind: WalletKind, venue_type: &str, amount: Decimal| WalletEntry {
                    id: format!("{}-{suffix}", f.fill_id),
                    kind,
                    venue_type: venue_type.into(),
                    amount,
                    symbol: Some(f.symbol.clone()),
                    product_id: None,
                    at: f.timestamp,
                };
            out.push(row("cash", WalletKind::Cash, "cashflow", cash));
            out.push(row("fee", WalletKind::Fee, "commission", -f.fee));
            if let Some(tax) = tax {
                out.push(row("tax", WalletKind::Fee, "gst", -f.fee * tax));
            }
        }
        out
    }

    fn check(venue: &VenueActivity) -> Reconciliation {
        compare(
            &session(),
            &ledger_fills(),
            venue,
            DEFAULT_TOLERANCE_USD,
            t(121),
        )
    }

    #[test]
    fn books_that_agree_say_so_with_the_figures() {
        let fills = ledger_fills();
        let r = check(&VenueActivity {
            wallet: Some(wallet(&fills, None)),
            fills,
        });
        assert!(r.agrees(), "{}", r.summary());
        assert_eq!((r.ledger_cash, r.ledger_fees), (dec!(4), dec!(1)));
        assert_eq!((r.venue_cash, r.venue_fees), (dec!(4), dec!(1)));
        assert_eq!(
            (r.wallet_cash, r.wallet_fees),
            (Some(dec!(4)), Some(dec!(1)))
        );
        assert!(r.summary().ends_with("the books agree"), "{}", r.summary());
    }

    #[test]
    fn a_fill_on_one_side_only_is_named() {
        let mut venue = ledger_fills();
        let gone = venue.remove(3);
        venue.push(fill(
            "f9",
            "ab12cd34-260310-PX2",
            "P-BTC-80000-100326",
            Side::Buy,
            dec!(210),
        ));
        let r = check(&VenueActivity {
            fills: venue,
            wallet: None,
        });
        assert_eq!(r.differences.len(), 2, "{}", r.summary());
        assert!(
            matches!(&r.differences[0], Difference::UnbookedFill { fill_id, price, .. } if fill_id == "f9" && *price == dec!(210))
        );
        assert!(
            matches!(&r.differences[1], Difference::UnknownFill { fill_id, .. } if *fill_id == gone.fill_id)
        );
        assert_eq!(
            r.wallet_note.as_deref(),
            Some("the venue keeps no wallet ledger it can give")
        );
    }

    #[test]
    fn fills_of_other_sessions_and_before_the_window_are_not_the_sessions() {
        let mut venue = ledger_fills();
        // Another profile's order on the same contract, and this session's id as a prefix
        // of a longer one.
        venue.push(fill(
            "o1",
            "ffff0000-260310-CE1",
            "C-BTC-84000-100326",
            Side::Sell,
            dec!(1),
        ));
        venue.push(fill(
            "o2",
            "ab12cd34-2603101-CE1",
            "C-BTC-84000-100326",
            Side::Sell,
            dec!(1),
        ));
        let mut early = fill(
            "o3",
            "ab12cd34-260310-CE9",
            "C-BTC-84000-100326",
            Side::Sell,
            dec!(1),
        );
        early.timestamp = t(-2);
        venue.push(early);
        let r = check(&VenueActivity {
            fills: venue,
            wallet: None,
        });
        assert!(r.agrees(), "{}", r.summary());
    }

    #[test]
    fn a_fee_that_differs_beyond_the_tolerance_is_a_difference() {
        let mut venue = ledger_fills();
        venue[0].fee = dec!(0.255);
        assert!(check(&VenueActivity {
            fills: venue.clone(),
            wallet: None
        })
        .agrees());
        venue[0].fee = dec!(0.27);
        let r = check(&VenueActivity {
            fills: venue,
            wallet: None,
        });
        assert_eq!(
            r.differences,
            vec![Difference::FillDiffers {
                fill_id: "f1".into(),
                field: "fee".into(),
                ledger: dec!(0.25),
                venue: dec!(0.27),
            }]
        );
    }

    #[test]
    fn a_tax_booked_apart_from_the_commissions_shows_as_fees_the_ledger_missed() {
        let fills = ledger_fills();
        let r = check(&VenueActivity {
            wallet: Some(wallet(&fills, Some(dec!(0.18)))),
            fills,
        });
        assert_eq!(
            r.differences,
            vec![Difference::WalletFees {
                ledger: dec!(1),
                venue: dec!(1.18),
            }]
        );
        let text = r.summary();
        assert!(
            text.contains("18.00 % on top of the fills' commissions"),
            "{text}"
        );
    }

    #[test]
    fn unknown_and_unattributed_wallet_rows_are_said_not_guessed() {
        let fills = ledger_fills();
        let mut rows = wallet(&fills, None);
        rows.push(WalletEntry {
            id: "w1".into(),
            kind: WalletKind::Unknown("option_exercise".into()),
            venue_type: "option_exercise".into(),
            amount: dec!(-3),
            symbol: None,
            product_id: Some(ProductId(2)),
            at: t(30),
        });
        let r = check(&VenueActivity {
            fills: fills.clone(),
            wallet: Some(rows),
        });
        assert!(
            matches!(&r.differences[..], [Difference::UnknownWalletRow { venue_type, .. }] if venue_type == "option_exercise")
        );

        let unnamed: Vec<WalletEntry> = wallet(&fills, None)
            .into_iter()
            .map(|mut w| {
                w.symbol = None;
                w
            })
            .collect();
        let r = check(&VenueActivity {
            fills,
            wallet: Some(unnamed),
        });
        assert!(r.agrees(), "the fills still agree");
        assert_eq!(r.wallet_cash, None);
        assert!(
            r.wallet_note
                .as_deref()
                .is_some_and(|n| n.starts_with("8 trade rows in the window name no contract")),
            "{:?}",
            r.wallet_note
        );
    }

    #[test]
    fn a_session_seen_live_is_checked_a_minute_after_it_closes() {
        let mut checks = Checks::new(DEFAULT_TOLERANCE_USD);
        let s = session();
        // Closed before the engine saw it live: not checked again.
        checks.observe(None, Some(&s), t(0));
        assert!(!checks.pending());
        checks.observe(Some(&s), None, t(1));
        assert!(!checks.pending());
        checks.observe(None, Some(&s), t(120));
        assert!(checks.pending());
        assert!(checks.take_due(t(120), false).is_empty());
        let due = checks.take_due(t(121), false);
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].session.session_id, s.session_id);
        assert!(!checks.pending());
        checks.again(due[0].clone(), t(125));
        assert_eq!(checks.take_due(t(122), true).len(), 1, "all: due or not");
    }
}
