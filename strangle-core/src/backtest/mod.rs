//! Backtests: the live engine and strategy, unchanged, on the simulated venue, a simulated
//! clock and recorded (or synthetic) chains.
//!
//! [`Backtest::run`] starts a [`ManualClock`] at the first snapshot, feeds the
//! [`SimExchange`] from a [`MarketFeed`] as the clock passes each snapshot's time, and drives
//! the [`Engine`] in `backtest` mode with an in-memory ledger until the data ends (or
//! `until`). Fills cross the quoted bid/ask up to the quoted size, and only quotes no older than
//! the profile's `max_quote_age_secs` (an order on an older one waits for a fresh quote, or with
//! [`Backtest::stale_quotes`] set to model, an exit fills at a Black-76 price); fees come from
//! the profile's fee model, expiries are cash-settled by the venue. Nothing reads the wall clock, so the
//! same data and profile give the same [`BacktestResult`] every run, to the last digit.
//!
//! ```
//! # async fn demo() -> strangle_core::Result<()> {
//! use chrono::{Duration, TimeZone, Utc};
//! use rust_decimal::Decimal;
//! use strangle_core::backtest::Backtest;
//! use strangle_core::profile::Profile;
//! use strangle_core::sim::{synthetic::SyntheticMarket, VecFeed};
//!
//! let start = Utc.with_ymd_and_hms(2026, 3, 10, 3, 0, 0).unwrap();
//! let m = SyntheticMarket::btc();
//! let chains = m.path(start, start + Duration::hours(8), Duration::minutes(5), 0.45,
//!     |_| Decimal::from(82_000));
//! let mut profile = Profile::named("demo");
//! profile.contracts_per_leg = Decimal::ONE;
//! let result = Backtest::new(profile).run(VecFeed::new(chains)).await?;
//! println!("{} sessions, net {}", result.sessions.len(), result.report().kpis.totals.net);
//! # Ok(()) }
//! ```

pub mod portfolio;
pub mod report;
pub mod sweep;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::audit::EventKind;
use crate::clock::{Clock, ManualClock};
use crate::engine::{Engine, EngineConfig};
use crate::error::{Error, Result};
use crate::ids::SessionId;
use crate::ledger::{AuditEvent, Mode, SessionRecord, SessionState};
use crate::memory::MemoryLedger;
use crate::model::{ChainSnapshot, Fill};
use crate::profile::Profile;
use crate::risk::ExitReason;
use crate::sim::{MarketFeed, QuoteRule, QuoteStats, Settlement, SimExchange, StaleQuotes};
use crate::strategy::Phase;

pub use report::{Kpis, Report};

/// What a backtest read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataStats {
    /// Time of the first snapshot.
    pub first: Option<DateTime<Utc>>,
    /// Time of the last snapshot applied.
    pub last: Option<DateTime<Utc>>,
    /// Snapshots applied.
    pub snapshots: u64,
    /// Contract quotes applied (the sum of the snapshots' entries).
    pub quotes: u64,
}

/// Where a running backtest is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// Simulated time reached.
    pub now: DateTime<Utc>,
    /// Data read so far.
    pub data: DataStats,
    /// Sessions recorded so far.
    pub sessions: usize,
}

/// Counts what passes through a feed and notices when it runs dry.
pub(crate) struct CountingFeed<F> {
    pub(crate) inner: F,
    pub(crate) stats: Arc<Mutex<DataStats>>,
    pub(crate) exhausted: Arc<AtomicBool>,
}

impl<F: MarketFeed> MarketFeed for CountingFeed<F> {
    fn peek_time(&mut self) -> Option<DateTime<Utc>> {
        let t = self.inner.peek_time();
        if t.is_none() {
            self.exhausted.store(true, Ordering::Relaxed);
        }
        t
    }

    fn next_snapshot(&mut self) -> Option<ChainSnapshot> {
        let s = self.inner.next_snapshot()?;
        if let Ok(mut st) = self.stats.lock() {
            st.first.get_or_insert(s.timestamp);
            st.last = Some(s.timestamp);
            st.snapshots += 1;
            st.quotes += s.entries.len() as u64;
        }
        Some(s)
    }

    fn advance_to(&mut self, now: DateTime<Utc>) {
        self.inner.advance_to(now);
    }
}

/// A backtest's settings.
#[derive(Debug, Clone)]
pub struct Backtest {
    /// The strategy.
    pub profile: Profile,
    /// Starting cash on the simulated venue, USD.
    pub cash: Decimal,
    /// Longest simulated time between two engine steps.
    pub poll: Duration,
    /// Stop here even if the data goes on.
    pub until: Option<DateTime<Utc>>,
    /// What an exit does when its quote is older than the profile's `max_quote_age_secs`:
    /// wait for a fresh one (the default) or fill at a model price.
    pub stale_quotes: StaleQuotes,
    /// Step every poll interval while no session is open, instead of jumping to the next
    /// entry window (the results are the same; this only exists to show that they are).
    pub step_while_idle: bool,
}

/// Everything a backtest produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestResult {
    /// The profile run.
    pub profile: Profile,
    /// The data read.
    pub data: DataStats,
    /// Every session, in order (an open one is still open when the data ended).
    pub sessions: Vec<SessionRecord>,
    /// Every fill, with its session id.
    pub fills: Vec<(SessionId, Fill)>,
    /// The audit trail.
    pub events: Vec<AuditEvent>,
    /// Cash on the venue at the end, USD (a `data_end` session's legs are still open there).
    pub final_cash: Decimal,
    /// Starting cash, USD.
    pub initial_cash: Decimal,
    /// Every expiry settlement the venue carried out, with the age of the index it used.
    #[serde(default)]
    pub settlements: Vec<Settlement>,
    /// What the run wants the user to know (an `until` before the data, a session closed by
    /// the end of the data).
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Orders that waited at the venue for a fresh quote, and fills priced by the model.
    #[serde(default)]
    pub quote_stats: QuoteStats,
    /// Engine steps the run took: how much work it was, not part of what it found (left out
    /// of the serialised result, which is the same whether idle time was stepped through or
    /// jumped over).
    #[serde(skip)]
    pub engine_steps: u64,
    /// The entry windows the data covered, and why those without an entry had none.
    #[serde(default)]
    pub entry_days: EntryDays,
}

/// The trading days whose whole entry window lies within the data, and what became of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryDays {
    /// Days whose entry window the data covers.
    pub windows: usize,
    /// Of those, days a strangle was entered.
    pub entered: usize,
    /// The others, counted by why (the latest cause seen while the window was open).
    pub missed: std::collections::BTreeMap<crate::select::NoEntryCause, usize>,
}

impl EntryDays {
    /// The days of `profile`'s entry windows from `first` to `last`, each counted as entered
    /// (a session of that trading day) or by its cause in `causes` (no chain came during the
    /// window when it has none).
    pub fn count(
        profile: &Profile,
        first: Option<DateTime<Utc>>,
        last: Option<DateTime<Utc>>,
        sessions: &[SessionRecord],
        causes: &std::collections::BTreeMap<chrono::NaiveDate, crate::select::NoEntryCause>,
    ) -> Self {
        let mut out = Self::default();
        let (Some(first), Some(last)) = (first, last) else {
            return out;
        };
        let mut day = crate::schedule::ist_date(first) - Duration::days(1);
        while day <= crate::schedule::ist_date(last) {
            let (start, end) = crate::schedule::entry_window(profile, day);
            if start >= first && end <= last {
                out.windows += 1;
                if sessions.iter().any(|s| s.trading_day == day) {
                    out.entered += 1;
                } else {
                    let cause = causes
                        .get(&day)
                        .copied()
                        .unwrap_or(crate::select::NoEntryCause::WindowMissed);
                    *out.missed.entry(cause).or_insert(0) += 1;
                }
            }
            day += Duration::days(1);
        }
        out
    }
}

impl BacktestResult {
    /// KPIs and series of this result.
    pub fn report(&self) -> Report {
        Report::new(self)
    }
}

impl Backtest {
    /// A backtest with 10,000 USD and a one-minute poll.
    pub fn new(profile: Profile) -> Self {
        Self {
            profile,
            cash: Decimal::from(10_000),
            poll: Duration::minutes(1),
            until: None,
            stale_quotes: StaleQuotes::Wait,
            step_while_idle: false,
        }
    }

    /// Runs to the end of the data.
    pub async fn run(&self, feed: impl MarketFeed + 'static) -> Result<BacktestResult> {
        self.run_with_progress(feed, |_| {}).await
    }

    /// Runs to the end of the data, calling `progress` after every simulated day.
    pub async fn run_with_progress(
        &self,
        feed: impl MarketFeed + 'static,
        mut progress: impl FnMut(&Progress),
    ) -> Result<BacktestResult> {
        self.profile.validate()?;
        let stats = Arc::new(Mutex::new(DataStats::default()));
        let exhausted = Arc::new(AtomicBool::new(false));
        let mut feed = CountingFeed {
            inner: feed,
            stats: stats.clone(),
            exhausted: exhausted.clone(),
        };
        let start = feed
            .peek_time()
            .ok_or_else(|| Error::Engine("the backtest data holds no snapshot".into()))?;
        if let Some(u) = self.until.filter(|u| *u < start) {
            // Nothing may happen after `until`, and the data starts after it: no engine runs.
            return Ok(BacktestResult {
                profile: self.profile.clone(),
                data: DataStats::default(),
                sessions: Vec::new(),
                fills: Vec::new(),
                events: Vec::new(),
                final_cash: self.cash,
                initial_cash: self.cash,
                settlements: Vec::new(),
                warnings: vec![format!(
                    "until {} precedes the data (first snapshot {}): nothing ran",
                    u.to_rfc3339(),
                    start.to_rfc3339()
                )],
                quote_stats: QuoteStats::default(),
                engine_steps: 0,
                entry_days: EntryDays::default(),
            });
        }
        let mut run = Run::start(self, feed, stats.clone(), exhausted.clone(), start).await?;
        loop {
            let now = run.clock.now();
            let mut end = now + Duration::days(1);
            if let Some(u) = self.until {
                end = end.min(u);
            }
            let status = run.engine.run_until(Some(end)).await?;
            // An idle engine asks the venue nothing; bring the market up to the clock so
            // the end of the data is seen (and due expiries settle).
            run.venue.catch_up();
            let data = run.data();
            progress(&Progress {
                now: run.clock.now(),
                sessions: run.ledger.session_count(),
                data: data.clone(),
            });
            if status.phase == Phase::Stopped || run.past_end(self.until) {
                break;
            }
        }
        Ok(run.finish(self))
    }
}

/// One profile's engine on its own simulated venue, clock and in-memory ledger: a backtest
/// while it runs.
pub(crate) struct Run {
    pub(crate) clock: Arc<ManualClock>,
    pub(crate) venue: Arc<SimExchange>,
    pub(crate) ledger: Arc<MemoryLedger>,
    pub(crate) engine: Engine<Arc<SimExchange>, Arc<MemoryLedger>, Arc<ManualClock>>,
    pub(crate) handle: crate::engine::EngineHandle,
    stats: Arc<Mutex<DataStats>>,
    exhausted: Arc<AtomicBool>,
}

impl Run {
    /// Starts `b`'s engine at `start` on `feed` (already counted into `stats`).
    pub(crate) async fn start(
        b: &Backtest,
        feed: impl MarketFeed + 'static,
        stats: Arc<Mutex<DataStats>>,
        exhausted: Arc<AtomicBool>,
        start: DateTime<Utc>,
    ) -> Result<Self> {
        let clock = Arc::new(ManualClock::new(start));
        let venue = Arc::new(
            SimExchange::new(clock.clone(), b.profile.fees.clone(), b.cash)
                .with_feed(Box::new(feed))
                .with_quote_rule(QuoteRule {
                    stale: b.stale_quotes,
                    ..QuoteRule::of(&b.profile)
                }),
        );
        let ledger = Arc::new(MemoryLedger::without_marks());
        let config = EngineConfig {
            mode: Mode::Backtest,
            poll_interval: b.poll,
            adopt: false,
            ioc_entries: false,
        };
        let (mut engine, handle) = Engine::start(
            b.profile.clone(),
            config,
            venue.clone(),
            ledger.clone(),
            clock.clone(),
        )
        .await?;
        engine.step_while_idle(b.step_while_idle);
        Ok(Self {
            clock,
            venue,
            ledger,
            engine,
            handle,
            stats,
            exhausted,
        })
    }

    /// The data read so far.
    pub(crate) fn data(&self) -> DataStats {
        self.stats.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Whether the clock has passed the end of the data, or `until`.
    pub(crate) fn past_end(&self, until: Option<DateTime<Utc>>) -> bool {
        let now = self.clock.now();
        let data = self.data();
        let past_data =
            self.exhausted.load(Ordering::Relaxed) && data.last.is_none_or(|last| now >= last);
        past_data || until.is_some_and(|u| now >= u)
    }

    /// The result: sessions the data ended on are closed at their last marks.
    pub(crate) fn finish(self, b: &Backtest) -> BacktestResult {
        let mut c = self.ledger.contents();
        let mut warnings = Vec::new();
        let end = self.clock.now();
        for s in c.sessions.iter_mut().filter(|s| s.state.is_active()) {
            close_at_data_end(s, end);
            let detail = format!(
                "the data ended with session {} open: closed at its last marks, net {} USD, \
                 with no exit fill",
                s.session_id, s.pnl.net
            );
            c.events.push(AuditEvent {
                at: end,
                profile: s.profile.clone(),
                session_id: Some(s.session_id.clone()),
                kind: EventKind::DataEnd,
                detail: detail.clone(),
            });
            warnings.push(detail);
        }
        let data = self.data();
        let entry_days = EntryDays::count(
            &b.profile,
            data.first,
            data.last,
            &c.sessions,
            self.engine.strategy().no_entry_days(),
        );
        BacktestResult {
            profile: b.profile.clone(),
            data,
            sessions: c.sessions,
            fills: c.fills,
            events: c.events,
            final_cash: self.venue.cash(),
            initial_cash: b.cash,
            settlements: self.venue.settlements(),
            warnings,
            quote_stats: self.venue.quote_stats(),
            engine_steps: self.engine.steps(),
            entry_days,
        }
    }
}

/// Closes a session the data ended on: every open contract valued at its leg's last mark (the
/// entry price where a leg never had one), exit reason [`ExitReason::DataEnd`].
fn close_at_data_end(s: &mut SessionRecord, end: DateTime<Utc>) {
    s.pnl = s.pnl_at_marks();
    s.state = SessionState::Closed;
    s.exit_reason = Some(ExitReason::DataEnd);
    s.closed_at = Some(end);
}
