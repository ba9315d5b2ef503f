//! What the engine records, and the `Ledger` trait that records it.
//!
//! Order intents are written before the order is sent; everything that follows (order
//! updates, fills, session changes, PnL marks, audit events) is appended as it happens, so
//! a restart can rebuild the true state. `strangle-store` implements this on SQLite and
//! PostgreSQL; [`crate::memory::MemoryLedger`] keeps it in memory.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::audit::EventKind;
use crate::error::Result;
use crate::ids::{ProductId, SessionId, Symbol};
use crate::model::{Fill, OptionKind, OrderRequest, OrderStatus, Underlying};
use crate::pnl::{LegBook, SessionPnl};
use crate::profile::Profile;
use crate::risk::ExitReason;

/// How the engine is connected to a market.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Real orders on Delta Exchange.
    Live,
    /// A live run's rehearsal: real orders sent to a Delta-compatible market on this machine
    /// (`strangle sim-server`), no money. Kept apart from `live` so that analytics never mix
    /// the two.
    Rehearsal,
    /// Delta's public market data, simulated fills.
    Paper,
    /// A local simulated market, no network.
    Sim,
    /// Recorded or synthetic history on a simulated clock.
    Backtest,
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Live => "live",
            Self::Rehearsal => "rehearsal",
            Self::Paper => "paper",
            Self::Sim => "sim",
            Self::Backtest => "backtest",
        })
    }
}

/// Where a session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    /// Entry orders are working.
    Entering,
    /// Both legs are short and watched.
    Open,
    /// Exit orders are working.
    Exiting,
    /// Flat; `exit_reason` says why.
    Closed,
}

impl SessionState {
    /// Whether the session may still hold or trade contracts.
    pub fn is_active(self) -> bool {
        !matches!(self, Self::Closed)
    }
}

/// Why an order was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrderPurpose {
    /// Selling a leg to open.
    Entry,
    /// Buying a leg back (exit, unwind or panic).
    Exit,
    /// A reduce-only stop order resting at the venue to buy a short leg back if its price
    /// runs (the protection that stays while strangle is down).
    Stop,
}

/// One leg of a session as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LegRecord {
    /// Call or put.
    pub kind: OptionKind,
    /// Contract symbol.
    pub symbol: Symbol,
    /// Venue product id.
    pub product_id: ProductId,
    /// Strike, USD.
    pub strike: Decimal,
    /// Underlying per contract.
    pub contract_size: Decimal,
    /// Tick size of the contract.
    pub tick_size: Decimal,
    /// Contracts the entry aims to sell.
    pub target: Decimal,
    /// Delta of the contract when it was selected.
    pub entry_delta: Option<f64>,
    /// Executions so far.
    pub book: LegBook,
    /// Latest mark price.
    pub mark: Option<Decimal>,
    /// Entry orders sent so far (the next one gets attempt `entry_attempts + 1`).
    pub entry_attempts: u32,
    /// Exit orders sent so far.
    pub exit_attempts: u32,
    /// Venue stop orders sent so far (each move of the stop is a new one).
    #[serde(default)]
    pub stop_attempts: u32,
    /// Trigger price of the latest venue stop sent.
    #[serde(default)]
    pub stop_price: Option<Decimal>,
    /// Why this leg alone was closed, or is being closed, while the session stays open (a
    /// leg rule, or its venue stop); left out while `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_reason: Option<crate::risk::ExitReason>,
    /// The other leg was stopped and this leg's stop moved to its cost; left out while false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stop_at_cost: bool,
}

impl LegRecord {
    /// The leg's PnL with its open contracts at the last mark (the entry price before the
    /// first mark).
    pub fn pnl_at_mark(&self) -> crate::pnl::LegPnl {
        let mark = self.mark.or(self.book.entry_price()).unwrap_or_default();
        self.book.pnl(mark, self.contract_size)
    }

    /// Counts one more order of `purpose` for the leg and returns its attempt number (the
    /// counter is written with the session before the order is sent).
    pub fn next_attempt(&mut self, purpose: OrderPurpose) -> u32 {
        let n = match purpose {
            OrderPurpose::Entry => &mut self.entry_attempts,
            OrderPurpose::Exit => &mut self.exit_attempts,
            OrderPurpose::Stop => &mut self.stop_attempts,
        };
        *n += 1;
        *n
    }

    /// The leg's product, by id and symbol.
    pub fn product(&self) -> crate::model::ProductRef {
        crate::model::ProductRef {
            product_id: self.product_id,
            symbol: self.symbol.clone(),
        }
    }
}

/// A session: one strangle from entry to flat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionRecord {
    /// Deterministic id: profile tag and IST trading day.
    pub session_id: SessionId,
    /// Profile name.
    pub profile: String,
    /// BTC or ETH.
    pub underlying: Underlying,
    /// How the engine ran.
    pub mode: Mode,
    /// IST date of the entry window.
    pub trading_day: NaiveDate,
    /// Life-cycle state.
    pub state: SessionState,
    /// When the entry started.
    pub opened_at: DateTime<Utc>,
    /// When the session became flat.
    pub closed_at: Option<DateTime<Utc>>,
    /// Settlement of both legs.
    pub expiry: DateTime<Utc>,
    /// The IST exit time fixed at entry.
    pub planned_exit: DateTime<Utc>,
    /// Spot at entry.
    pub entry_spot: Option<Decimal>,
    /// Call first, then put.
    pub legs: Vec<LegRecord>,
    /// Why it closed (or is closing).
    pub exit_reason: Option<ExitReason>,
    /// PnL at the latest marks (final once closed).
    pub pnl: SessionPnl,
    /// Locked trailing level, % of premium.
    pub trailing_level: Option<Decimal>,
    /// Highest profit seen, % of premium.
    pub peak_pnl_pct: Option<Decimal>,
    /// Lowest profit seen (deepest drawdown), % of premium.
    pub trough_pnl_pct: Option<Decimal>,
    /// For a re-entry after a stop: the day's first session (left out otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reentry_of: Option<SessionId>,
    /// For a re-entry: which one of the day (1, 2, …; 0, left out, for the first session).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub reentry: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl SessionRecord {
    /// The session's PnL with every leg at its last mark.
    pub fn pnl_at_marks(&self) -> SessionPnl {
        SessionPnl::from_legs(self.legs.iter().map(LegRecord::pnl_at_mark))
    }
}

/// An order as intended, written before it is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderIntent {
    /// Owning session.
    pub session_id: SessionId,
    /// Which leg.
    pub leg: OptionKind,
    /// Entry or exit.
    pub purpose: OrderPurpose,
    /// 1-based attempt within the leg and purpose.
    pub attempt: u32,
    /// What is sent.
    pub request: OrderRequest,
    /// When the strategy decided it.
    pub created_at: DateTime<Utc>,
}

/// A PnL observation of an open session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PnlMark {
    /// Session.
    pub session_id: SessionId,
    /// When.
    pub at: DateTime<Utc>,
    /// PnL at the marks.
    pub pnl: SessionPnl,
    /// Net PnL if the open legs were bought back at the asks now, exit fees included (`None`
    /// while a leg had no ask).
    pub close_now_net: Option<Decimal>,
    /// Locked trailing level.
    pub trailing_level: Option<Decimal>,
    /// Spot, if known.
    pub spot: Option<Decimal>,
}

/// One line of the append-only audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEvent {
    /// When.
    pub at: DateTime<Utc>,
    /// Profile name.
    pub profile: String,
    /// Session, if any.
    pub session_id: Option<SessionId>,
    /// What the line records (written as its snake_case name: `entry`, `no_entry`, ...).
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "entry"))]
    pub kind: EventKind,
    /// Human-readable detail.
    pub detail: String,
}

/// Durable record of everything the engine does.
#[async_trait]
pub trait Ledger: Send + Sync {
    /// Stores (or replaces) a profile by name.
    async fn save_profile(&self, profile: &Profile) -> Result<()>;
    /// Inserts or replaces a session by id.
    async fn upsert_session(&self, session: &SessionRecord) -> Result<()>;
    /// Records an order before it is sent.
    async fn record_order_intent(&self, intent: &OrderIntent) -> Result<()>;
    /// Records the venue's latest view of an order.
    async fn record_order_update(&self, session_id: &SessionId, status: &OrderStatus)
        -> Result<()>;
    /// Records a fill (idempotent per fill id).
    async fn record_fill(&self, session_id: &SessionId, fill: &Fill) -> Result<()>;
    /// Records a PnL mark.
    async fn record_mark(&self, mark: &PnlMark) -> Result<()>;
    /// Appends to the audit trail.
    async fn record_event(&self, event: &AuditEvent) -> Result<()>;
    /// The most recent session of a profile (for the once-a-day rule and recovery).
    async fn latest_session(&self, profile: &str) -> Result<Option<SessionRecord>>;
    /// Sessions of a profile that are not closed.
    async fn active_sessions(&self, profile: &str) -> Result<Vec<SessionRecord>>;
    /// Every fill recorded for a session, oldest first (what recovery rebuilds legs from).
    async fn session_fills(&self, session_id: &SessionId) -> Result<Vec<Fill>>;
    /// Takes the single-runner lease on `resource` (a profile on an account) for `holder`,
    /// held until the guard is released: a ledger that other processes share refuses a second
    /// holder with [`crate::Error::Locked`]. A ledger nobody shares grants it at once.
    async fn lease(&self, resource: &str, holder: &str) -> Result<Box<dyn LeaseGuard>> {
        let _ = (resource, holder);
        Ok(Box::new(LocalLease))
    }
    /// Writes what is buffered (batched PnL marks) durably.
    async fn flush(&self) -> Result<()> {
        Ok(())
    }
}

/// A held single-runner lease (see [`Ledger::lease`]). Dropping it stops renewing it; prefer
/// [`LeaseGuard::release`], which gives it up at once.
#[async_trait]
pub trait LeaseGuard: Send + Sync + std::fmt::Debug {
    /// Gives the lease up.
    async fn release(self: Box<Self>) -> Result<()>;
}

/// The lease of a ledger nobody else shares: nothing to give up.
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalLease;

#[async_trait]
impl LeaseGuard for LocalLease {
    async fn release(self: Box<Self>) -> Result<()> {
        Ok(())
    }
}

/// Who holds a lease: a process on a host, and optionally one part of it (a Python
/// session), written `host:pid` or `host:pid/tag` in the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseHolder {
    /// The host's name.
    pub host: String,
    /// The process id on that host.
    pub pid: u32,
    /// The part of the process, if it holds several leases apart.
    pub tag: Option<String>,
}

impl LeaseHolder {
    /// This process on this host (`HOSTNAME`, else `/etc/hostname`, else `localhost`).
    pub fn this_process() -> Self {
        let host = std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".into());
        Self {
            host,
            pid: std::process::id(),
            tag: None,
        }
    }

    /// The same process, one part of it named `tag`.
    pub fn tagged(self, tag: impl Into<String>) -> Self {
        Self {
            tag: Some(tag.into()),
            ..self
        }
    }

    /// Reads `host:pid` or `host:pid/tag`; `None` for anything else (a holder written by
    /// another program).
    ///
    /// ```
    /// use strangle_core::ledger::LeaseHolder;
    /// let h = LeaseHolder::parse("box-1:4242/py-3").expect("a holder");
    /// assert_eq!((h.host.as_str(), h.pid, h.tag.as_deref()), ("box-1", 4242, Some("py-3")));
    /// assert_eq!(h.to_string(), "box-1:4242/py-3");
    /// assert_eq!(LeaseHolder::parse("box-1:4242").map(|h| h.tag), Some(None));
    /// for bad in ["box-1", ":42", "box-1:", "box-1:4x2", "box-1:/t"] {
    ///     assert_eq!(LeaseHolder::parse(bad), None, "{bad}");
    /// }
    /// let me = LeaseHolder::this_process();
    /// assert_eq!(LeaseHolder::parse(&me.to_string()), Some(me));
    /// ```
    pub fn parse(s: &str) -> Option<Self> {
        let (host, rest) = s.rsplit_once(':')?;
        let (pid, tag) = match rest.split_once('/') {
            Some((p, t)) => (p, Some(t.to_string())),
            None => (rest, None),
        };
        if host.is_empty() || pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(Self {
            host: host.to_string(),
            pid: pid.parse().ok()?,
            tag,
        })
    }
}

impl std::fmt::Display for LeaseHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.host, self.pid)?;
        if let Some(t) = &self.tag {
            write!(f, "/{t}")?;
        }
        Ok(())
    }
}

/// `host:pid`, naming this process as a lease holder.
pub fn process_holder() -> String {
    LeaseHolder::this_process().to_string()
}

#[async_trait]
impl<T: Ledger + ?Sized> Ledger for std::sync::Arc<T> {
    async fn save_profile(&self, profile: &Profile) -> Result<()> {
        (**self).save_profile(profile).await
    }
    async fn upsert_session(&self, session: &SessionRecord) -> Result<()> {
        (**self).upsert_session(session).await
    }
    async fn record_order_intent(&self, intent: &OrderIntent) -> Result<()> {
        (**self).record_order_intent(intent).await
    }
    async fn record_order_update(
        &self,
        session_id: &SessionId,
        status: &OrderStatus,
    ) -> Result<()> {
        (**self).record_order_update(session_id, status).await
    }
    async fn record_fill(&self, session_id: &SessionId, fill: &Fill) -> Result<()> {
        (**self).record_fill(session_id, fill).await
    }
    async fn record_mark(&self, mark: &PnlMark) -> Result<()> {
        (**self).record_mark(mark).await
    }
    async fn record_event(&self, event: &AuditEvent) -> Result<()> {
        (**self).record_event(event).await
    }
    async fn latest_session(&self, profile: &str) -> Result<Option<SessionRecord>> {
        (**self).latest_session(profile).await
    }
    async fn active_sessions(&self, profile: &str) -> Result<Vec<SessionRecord>> {
        (**self).active_sessions(profile).await
    }
    async fn session_fills(&self, session_id: &SessionId) -> Result<Vec<Fill>> {
        (**self).session_fills(session_id).await
    }
    async fn lease(&self, resource: &str, holder: &str) -> Result<Box<dyn LeaseGuard>> {
        (**self).lease(resource, holder).await
    }
    async fn flush(&self) -> Result<()> {
        (**self).flush().await
    }
}
