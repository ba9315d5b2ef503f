//! The read side: session lists, one session in full, CSV export and analytics.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use strangle_core::cells::neutralise;
use strangle_core::ledger::{AuditEvent, OrderIntent, SessionRecord, SessionState};
use strangle_core::model::{Fill, OrderState};

/// Which sessions to list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionFilter {
    /// Only this profile.
    pub profile: Option<String>,
    /// Opened at or after.
    pub from: Option<DateTime<Utc>>,
    /// Opened before.
    pub to: Option<DateTime<Utc>>,
    /// Only this state.
    pub state: Option<SessionState>,
    /// Only this mode (live, paper, sim, backtest).
    pub mode: Option<strangle_core::ledger::Mode>,
    /// Page size (1–1000).
    pub limit: i64,
    /// Sessions skipped.
    pub offset: i64,
}

impl Default for SessionFilter {
    fn default() -> Self {
        Self {
            profile: None,
            from: None,
            to: None,
            state: None,
            mode: None,
            limit: 50,
            offset: 0,
        }
    }
}

/// One page of results, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// How many match the filter in all.
    pub total: i64,
    /// The page size used.
    pub limit: i64,
    /// The offset used.
    pub offset: i64,
}

/// An order with its latest known state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderRow {
    /// The intent as recorded before sending.
    pub intent: OrderIntent,
    /// `intent` (never acknowledged) or the venue's state.
    pub state: Option<OrderState>,
    /// The venue's id.
    pub exchange_order_id: Option<String>,
    /// Contracts filled.
    pub filled_size: Decimal,
    /// Why it was cancelled or rejected.
    pub reason: Option<String>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// One session in full.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionDetail {
    /// The session with its legs.
    pub session: SessionRecord,
    /// Its orders, oldest first.
    pub orders: Vec<OrderRow>,
    /// Its fills, oldest first.
    pub fills: Vec<Fill>,
    /// Its audit trail.
    pub events: Vec<AuditEvent>,
}

/// Sessions as CSV, one row per session with both legs.
pub fn sessions_csv(sessions: &[SessionRecord]) -> Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "session_id",
        "profile",
        "underlying",
        "mode",
        "trading_day",
        "state",
        "opened_at",
        "closed_at",
        "exit_reason",
        "call",
        "call_entry",
        "call_exit",
        "put",
        "put_entry",
        "put_exit",
        "contracts",
        "premium",
        "gross",
        "fees",
        "net",
    ])?;
    let opt = |d: Option<Decimal>| d.map(|d| d.round_dp(8).to_string()).unwrap_or_default();
    for s in sessions {
        let leg = |i: usize| s.legs.get(i);
        // Text from outside (names, symbols) cannot become a spreadsheet formula.
        let text = |t: &str| neutralise(t).into_owned();
        w.write_record([
            text(&s.session_id),
            text(&s.profile),
            s.underlying.to_string(),
            s.mode.to_string(),
            s.trading_day.to_string(),
            crate::codec::to_text(&s.state),
            s.opened_at.to_rfc3339(),
            s.closed_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            s.exit_reason.map(|r| r.to_string()).unwrap_or_default(),
            leg(0).map(|g| text(&g.symbol)).unwrap_or_default(),
            opt(leg(0).and_then(|g| g.book.entry_price())),
            opt(leg(0).and_then(|g| g.book.exit_price())),
            leg(1).map(|g| text(&g.symbol)).unwrap_or_default(),
            opt(leg(1).and_then(|g| g.book.entry_price())),
            opt(leg(1).and_then(|g| g.book.exit_price())),
            leg(0).map(|g| g.book.sold.to_string()).unwrap_or_default(),
            s.pnl.premium.to_string(),
            s.pnl.gross.to_string(),
            s.pnl.fees.to_string(),
            s.pnl.net.to_string(),
        ])?;
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
