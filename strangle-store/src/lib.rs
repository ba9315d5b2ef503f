//! `strangle-store`: the ledger of `strangle-core` on SQLite (an embedded file, the default)
//! and PostgreSQL, with versioned migrations embedded in the binary.
//!
//! ```no_run
//! # async fn demo() -> Result<(), strangle_store::StoreError> {
//! use strangle_store::Store;
//! let ledger = Store::open("strangle.db").await?;            // SQLite file
//! let shared = Store::open("postgres://localhost/strangle").await?; // PostgreSQL
//! # Ok(()) }
//! ```

// The README's examples compile and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod codec;
pub mod error;
pub mod lease;
pub mod postgres;
pub mod profiles;
pub mod queries;
pub mod sqlite;

use std::path::Path;

use async_trait::async_trait;
use strangle_core::ledger::{AuditEvent, Ledger, OrderIntent, PnlMark, SessionRecord};
use strangle_core::model::{Fill, OrderStatus};
use strangle_core::profile::Profile;

pub use error::StoreError;
pub use lease::{default_holder, Lease, LEASE_TTL};
pub use postgres::Store as PgStore;
pub use profiles::{profile_in, StoredProfile};
pub use queries::{OrderRow, Page, SessionDetail, SessionFilter};
pub use sqlite::Store as SqliteStore;

/// PnL marks buffered before one group commit (any other write, or [`Store::flush`], writes
/// them sooner). Marks still buffered when a process dies are lost; orders, fills and
/// sessions never are.
pub const MARK_BATCH: usize = 512;

/// Sessions in the rolling win rate of the analytics.
pub const ANALYTICS_WIN_RATE_WINDOW: usize = 10;

/// Bars of the analytics' PnL histogram.
pub const ANALYTICS_HISTOGRAM_BARS: usize = 20;

/// Marks per multi-row INSERT when the buffer is written: 9 bound values each, 4,608 per
/// statement, well within SQLite's 32,766 and PostgreSQL's 65,535 bind parameters.
pub(crate) const MARKS_PER_INSERT: usize = MARK_BATCH;

/// A ledger on either backend, chosen by its location.
#[derive(Debug)]
pub enum Store {
    /// A SQLite file.
    Sqlite(SqliteStore),
    /// A PostgreSQL database.
    Postgres(PgStore),
}

macro_rules! both {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            Store::Sqlite($s) => $e,
            Store::Postgres($s) => $e,
        }
    };
}

/// The file of a SQLite location (`sqlite://path`, `sqlite:path` or a plain path).
fn sqlite_path(location: &str) -> Result<&Path, StoreError> {
    let path = location
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    if path.is_empty() {
        return Err(StoreError::Location {
            location: location.into(),
            reason: "no file name".into(),
        });
    }
    Ok(Path::new(path))
}

impl Store {
    /// Opens `postgres://...` / `postgresql://...` URLs on PostgreSQL; anything else
    /// (`sqlite://path`, `sqlite:path` or a plain path) is a SQLite file.
    pub async fn open(location: &str) -> Result<Self, StoreError> {
        if location.starts_with("postgres://") || location.starts_with("postgresql://") {
            return Ok(Self::Postgres(PgStore::open(location).await?));
        }
        Ok(Self::Sqlite(
            SqliteStore::open(sqlite_path(location)?).await?,
        ))
    }

    /// Opens an existing ledger for reading only, at the same kinds of location as
    /// [`Store::open`] (`schema` picks a PostgreSQL schema; it is refused for SQLite).
    /// Nothing is created or migrated, and the database refuses writes on these connections.
    pub async fn open_read_only(location: &str, schema: Option<&str>) -> Result<Self, StoreError> {
        if location.starts_with("postgres://") || location.starts_with("postgresql://") {
            return Ok(Self::Postgres(
                PgStore::open_read_only(location, schema).await?,
            ));
        }
        if schema.is_some() {
            return Err(StoreError::Location {
                location: location.into(),
                reason: "a schema applies to PostgreSQL ledgers only".into(),
            });
        }
        Ok(Self::Sqlite(
            SqliteStore::open_read_only(sqlite_path(location)?).await?,
        ))
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }

    /// Writes buffered PnL marks now.
    pub async fn flush(&self) -> Result<(), StoreError> {
        both!(self, s => s.flush().await)
    }

    /// Writes buffered marks and closes the ledger cleanly: a SQLite ledger is checkpointed
    /// into its one file (nothing is left in `-wal`). Nothing may use the store afterwards.
    pub async fn close(&self) -> Result<(), StoreError> {
        both!(self, s => s.close().await)
    }

    /// One session with its legs.
    pub async fn session(&self, session_id: &str) -> Result<Option<SessionRecord>, StoreError> {
        both!(self, s => s.session(session_id).await)
    }

    /// Sessions matching `f`, newest first, one page at a time.
    pub async fn list_sessions(
        &self,
        f: &SessionFilter,
    ) -> Result<Page<SessionRecord>, StoreError> {
        both!(self, s => s.list_sessions(f).await)
    }

    /// A session's PnL marks, oldest first, thinned to about `points` when there are more
    /// (each stretch keeps its lowest and highest net PnL, so peaks and troughs survive), and
    /// how many the ledger holds.
    pub async fn marks(
        &self,
        session_id: &str,
        points: usize,
    ) -> Result<(Vec<strangle_core::ledger::PnlMark>, usize), StoreError> {
        both!(self, s => s.marks(session_id, points).await)
    }

    /// The modes the ledger has sessions in (live, paper, sim, backtest).
    pub async fn modes(&self) -> Result<Vec<strangle_core::ledger::Mode>, StoreError> {
        both!(self, s => s.modes().await)
    }

    /// Every session matching `f`, oldest first (the filter's paging is ignored).
    pub async fn all_sessions(&self, f: &SessionFilter) -> Result<Vec<SessionRecord>, StoreError> {
        both!(self, s => s.all_sessions(f).await)
    }

    /// One session with its legs, orders, fills and audit trail.
    pub async fn session_detail(
        &self,
        session_id: &str,
    ) -> Result<Option<SessionDetail>, StoreError> {
        both!(self, s => s.session_detail(session_id).await)
    }

    /// Sessions matching `f` as CSV (oldest first).
    pub async fn sessions_csv(&self, f: &SessionFilter) -> Result<String, StoreError> {
        let all = self.all_sessions(f).await?;
        queries::sessions_csv(&all).map_err(|e| StoreError::Corrupt {
            table: "sessions",
            column: "*",
            reason: e.to_string(),
        })
    }

    /// KPIs and series over the closed sessions matching `f` (see
    /// [`strangle_core::analytics`]): rolling win rate over 10 sessions, 20 histogram bars.
    pub async fn analytics(
        &self,
        f: &SessionFilter,
    ) -> Result<strangle_core::analytics::Analytics, StoreError> {
        let all = self.all_sessions(f).await?;
        Ok(strangle_core::analytics::analyze(
            &all,
            ANALYTICS_WIN_RATE_WINDOW,
            ANALYTICS_HISTOGRAM_BARS,
        ))
    }

    /// Every profile.
    pub async fn profiles(&self) -> Result<Vec<StoredProfile>, StoreError> {
        both!(self, s => s.profiles().await)
    }

    /// One profile by name.
    pub async fn profile(&self, name: &str) -> Result<StoredProfile, StoreError> {
        both!(self, s => s.profile(name).await)
    }

    /// One profile by id.
    pub async fn profile_by_id(&self, id: i64) -> Result<StoredProfile, StoreError> {
        both!(self, s => s.profile_by_id(id).await)
    }

    /// The active profile.
    pub async fn active_profile(&self) -> Result<Option<StoredProfile>, StoreError> {
        both!(self, s => s.active_profile().await)
    }

    /// Adds a profile (a taken name is a conflict).
    pub async fn create_profile(&self, p: &Profile) -> Result<StoredProfile, StoreError> {
        both!(self, s => s.create_profile(p).await)
    }

    /// Replaces a profile's settings.
    pub async fn update_profile(&self, id: i64, p: &Profile) -> Result<StoredProfile, StoreError> {
        both!(self, s => s.update_profile(id, p).await)
    }

    /// Makes one profile the only active one.
    pub async fn activate_profile(&self, id: i64) -> Result<StoredProfile, StoreError> {
        both!(self, s => s.activate_profile(id).await)
    }

    /// Deletes a profile that is not active.
    pub async fn delete_profile(&self, id: i64) -> Result<(), StoreError> {
        both!(self, s => s.delete_profile(id).await)
    }
}

#[async_trait]
impl strangle_core::governor::RiskLedger for Store {
    async fn account_risk(
        &self,
    ) -> strangle_core::Result<Option<strangle_core::governor::RiskRecord>> {
        both!(self, s => s.account_risk().await)
    }
    async fn save_account_risk(
        &self,
        rec: &strangle_core::governor::RiskRecord,
    ) -> strangle_core::Result<bool> {
        both!(self, s => s.save_account_risk(rec).await)
    }
    async fn risk_sessions(
        &self,
        day: chrono::NaiveDate,
        basis: strangle_core::profile::PnlBasis,
    ) -> strangle_core::Result<Vec<strangle_core::governor::SessionView>> {
        both!(self, s => s.risk_sessions(day, basis).await)
    }
}

#[async_trait]
impl Ledger for Store {
    async fn save_profile(&self, profile: &Profile) -> strangle_core::Result<()> {
        both!(self, s => s.save_profile(profile).await)
    }
    async fn upsert_session(&self, session: &SessionRecord) -> strangle_core::Result<()> {
        both!(self, s => s.upsert_session(session).await)
    }
    async fn record_order_intent(&self, intent: &OrderIntent) -> strangle_core::Result<()> {
        both!(self, s => s.record_order_intent(intent).await)
    }
    async fn record_order_update(
        &self,
        session_id: &strangle_core::ids::SessionId,
        status: &OrderStatus,
    ) -> strangle_core::Result<()> {
        both!(self, s => s.record_order_update(session_id, status).await)
    }
    async fn record_fill(
        &self,
        session_id: &strangle_core::ids::SessionId,
        fill: &Fill,
    ) -> strangle_core::Result<()> {
        both!(self, s => s.record_fill(session_id, fill).await)
    }
    async fn record_mark(&self, mark: &PnlMark) -> strangle_core::Result<()> {
        both!(self, s => s.record_mark(mark).await)
    }
    async fn record_event(&self, event: &AuditEvent) -> strangle_core::Result<()> {
        both!(self, s => s.record_event(event).await)
    }
    async fn latest_session(&self, profile: &str) -> strangle_core::Result<Option<SessionRecord>> {
        both!(self, s => s.latest_session(profile).await)
    }
    async fn active_sessions(&self, profile: &str) -> strangle_core::Result<Vec<SessionRecord>> {
        both!(self, s => s.active_sessions(profile).await)
    }
    async fn session_fills(
        &self,
        session_id: &strangle_core::ids::SessionId,
    ) -> strangle_core::Result<Vec<Fill>> {
        both!(self, s => s.session_fills(session_id).await)
    }
    async fn lease(
        &self,
        resource: &str,
        holder: &str,
    ) -> strangle_core::Result<Box<dyn strangle_core::ledger::LeaseGuard>> {
        Ok(Box::new(
            self.acquire_lease(resource, holder, lease::LEASE_TTL)
                .await?,
        ))
    }
    async fn flush(&self) -> strangle_core::Result<()> {
        Ok(Store::flush(self).await?)
    }
}

/// Thins `marks` (oldest first) to about `points`: the first and the last are kept, and the
/// marks between are cut into stretches of which each keeps its lowest and its highest net
/// PnL, in time order. `points` of 0 keeps everything; fewer marks than `points` are kept as
/// they are.
pub fn thin_marks(
    marks: Vec<strangle_core::ledger::PnlMark>,
    points: usize,
) -> Vec<strangle_core::ledger::PnlMark> {
    let points = points.max(4);
    if marks.len() <= points {
        return marks;
    }
    let n = marks.len();
    let inner = &marks[1..n - 1];
    let stretches = (points - 2) / 2;
    let size = inner.len().div_ceil(stretches);
    let mut out = Vec::with_capacity(points);
    out.push(marks[0].clone());
    for chunk in inner.chunks(size.max(1)) {
        let (mut lo, mut hi) = (0, 0);
        for (i, m) in chunk.iter().enumerate() {
            if m.pnl.net < chunk[lo].pnl.net {
                lo = i;
            }
            if m.pnl.net > chunk[hi].pnl.net {
                hi = i;
            }
        }
        let (a, b) = (lo.min(hi), lo.max(hi));
        out.push(chunk[a].clone());
        if b != a {
            out.push(chunk[b].clone());
        }
    }
    out.push(marks[n - 1].clone());
    out
}

#[cfg(test)]
mod thin_tests {
    use super::thin_marks;
    use chrono::TimeZone;
    use rust_decimal::Decimal;
    use strangle_core::ledger::PnlMark;
    use strangle_core::pnl::SessionPnl;

    fn mark(i: i64, net: i64) -> PnlMark {
        PnlMark {
            session_id: strangle_core::ids::SessionId::new("s").expect("id"),
            at: chrono::Utc
                .with_ymd_and_hms(2026, 3, 10, 4, 0, 0)
                .single()
                .expect("t")
                + chrono::Duration::seconds(i),
            pnl: SessionPnl {
                net: Decimal::from(net),
                ..SessionPnl::default()
            },
            close_now_net: None,
            trailing_level: None,
            spot: None,
        }
    }

    #[test]
    fn thinning_keeps_the_ends_the_extremes_and_the_order() {
        // 1,000 marks: a slow rise with one spike down at 400 and one up at 700.
        let marks: Vec<_> = (0..1000)
            .map(|i| {
                mark(
                    i,
                    match i {
                        400 => -500,
                        700 => 900,
                        _ => i / 10,
                    },
                )
            })
            .collect();
        let thin = thin_marks(marks.clone(), 100);
        assert!(thin.len() <= 100 && thin.len() >= 50, "{}", thin.len());
        assert_eq!(thin[0], marks[0]);
        assert_eq!(thin.last(), marks.last());
        assert!(thin.windows(2).all(|w| w[0].at < w[1].at), "time order");
        assert!(thin.iter().any(|m| m.pnl.net == Decimal::from(-500)));
        assert!(thin.iter().any(|m| m.pnl.net == Decimal::from(900)));
        // Few marks stay as they are.
        assert_eq!(thin_marks(marks[..10].to_vec(), 100), marks[..10].to_vec());
    }
}
