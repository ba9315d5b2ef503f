//! The account risk governor: limits over every profile trading on one account.
//!
//! Each profile's rules manage its own session; the governor watches them all together. It is
//! fed a [`Book`] (every session of the IST trading day and every open one, with its net PnL,
//! and the account's balance where known) and answers with a [`Transition`] when its state
//! changes:
//!
//! - `active`: entries allowed.
//! - `reducing`: no new entries; open sessions run their own exits. Entered when the available
//!   balance falls below `reduce_below_available_usd`, left when it recovers.
//! - `halted`: every profile flattened, nothing starts. Entered when the day's PnL reaches the
//!   daily loss cap, the combined target or the trailed lock, when the open sessions together
//!   lose `mtm_stop_usd`, or when the available balance falls below
//!   `halt_below_available_usd`. Only an operator's [`Governor::reset`] leaves it.
//!
//! The day's PnL is the net PnL of every session of today's IST trading day plus that of every
//! session still open from an earlier one, on the governor's basis (what closing now would
//! realise by default), counted from the last reset. A new trading day starts the count again
//! (and the lock), but never lifts a halt. Like the strategy, the governor reads no clock: time
//! comes with each book, so backtests apply it exactly as live engines do.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use rust_decimal_macros::dec;
//! use strangle_core::governor::{AccountRisk, Book, Governor, RiskState, SessionView};
//! let mut limits = AccountRisk::default();
//! limits.daily_loss_usd = Some(dec!(100));
//! let mut g = Governor::new(limits);
//! let now = Utc.with_ymd_and_hms(2026, 3, 10, 6, 0, 0).unwrap();
//! let day = now.date_naive();
//! let book = |net| Book {
//!     now,
//!     sessions: vec![SessionView::open("btc", "btc-2026-03-10", day, net)],
//!     available_balance: None,
//! };
//! assert!(g.observe(&book(dec!(-99))).is_none());
//! let t = g.observe(&book(dec!(-100))).expect("halted");
//! assert_eq!(t.to, RiskState::Halted);
//! assert!(g.observe(&book(dec!(50))).is_none(), "only an operator resets a halt");
//! ```

mod ledger;

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::profile::PnlBasis;

pub use ledger::{
    book, reset, set_limits, starting_state, status, tick, validate, RiskLedger, RiskRecord,
    RiskStatus, Tick, Told, ACCOUNT,
};

/// Lock and trail on the day's PnL: once it reaches `trigger_usd`, `lock_usd` is locked; every
/// `every_usd` more locks `step_usd` more. The day's PnL falling back to the lock halts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LockTrail {
    /// Day's PnL that arms the lock, USD.
    pub trigger_usd: Decimal,
    /// PnL locked when armed, USD.
    pub lock_usd: Decimal,
    /// Further PnL that raises the lock, USD (`None`: the lock stays where it was armed).
    #[serde(default)]
    pub every_usd: Option<Decimal>,
    /// How much each `every_usd` raises the lock, USD.
    #[serde(default)]
    pub step_usd: Option<Decimal>,
}

impl LockTrail {
    /// The lock a peak day's PnL earns; `None` below the trigger.
    pub fn lock_for(&self, peak: Decimal) -> Option<Decimal> {
        if peak < self.trigger_usd {
            return None;
        }
        let mut lock = self.lock_usd;
        if let (Some(every), Some(step)) = (self.every_usd, self.step_usd) {
            if every > Decimal::ZERO {
                lock += ((peak - self.trigger_usd) / every).floor() * step;
            }
        }
        Some(lock)
    }
}

/// The account's limits; every one is off until set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct AccountRisk {
    /// Halt when the day's PnL falls to minus this, USD.
    pub daily_loss_usd: Option<Decimal>,
    /// Halt when the open sessions together have lost this, USD.
    pub mtm_stop_usd: Option<Decimal>,
    /// Halt (the day's profit taken) when the day's PnL reaches this, USD.
    pub mtm_target_usd: Option<Decimal>,
    /// Lock and trail the day's PnL.
    pub lock: Option<LockTrail>,
    /// No new entries while the available balance is below this, USD.
    pub reduce_below_available_usd: Option<Decimal>,
    /// Halt when the available balance falls below this, USD.
    pub halt_below_available_usd: Option<Decimal>,
    /// The PnL the limits read: what closing now would realise (default) or the marks.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "close_now"))]
    pub basis: PnlBasis,
}

impl Default for AccountRisk {
    fn default() -> Self {
        Self {
            daily_loss_usd: None,
            mtm_stop_usd: None,
            mtm_target_usd: None,
            lock: None,
            reduce_below_available_usd: None,
            halt_below_available_usd: None,
            basis: PnlBasis::CloseNow,
        }
    }
}

impl AccountRisk {
    /// Whether any limit is set.
    pub fn is_set(&self) -> bool {
        self.daily_loss_usd.is_some()
            || self.mtm_stop_usd.is_some()
            || self.mtm_target_usd.is_some()
            || self.lock.is_some()
            || self.reduce_below_available_usd.is_some()
            || self.halt_below_available_usd.is_some()
    }

    /// Every problem, as (field, message).
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut positive = |field: &str, v: Option<Decimal>| {
            if v.is_some_and(|v| v <= Decimal::ZERO) {
                out.push((field.to_string(), "must be positive".to_string()));
            }
        };
        positive("daily_loss_usd", self.daily_loss_usd);
        positive("mtm_stop_usd", self.mtm_stop_usd);
        positive("mtm_target_usd", self.mtm_target_usd);
        positive(
            "reduce_below_available_usd",
            self.reduce_below_available_usd,
        );
        positive("halt_below_available_usd", self.halt_below_available_usd);
        if let Some(l) = &self.lock {
            positive("lock.trigger_usd", Some(l.trigger_usd));
            positive("lock.every_usd", l.every_usd);
            if l.lock_usd >= l.trigger_usd {
                out.push((
                    "lock.lock_usd".into(),
                    format!("must be below lock.trigger_usd ({})", l.trigger_usd),
                ));
            }
            if l.every_usd.is_some() != l.step_usd.is_some() {
                out.push((
                    "lock.step_usd".into(),
                    "lock.every_usd and lock.step_usd go together".into(),
                ));
            }
            if let (Some(e), Some(s)) = (l.every_usd, l.step_usd) {
                if s < Decimal::ZERO || s > e {
                    out.push((
                        "lock.step_usd".into(),
                        format!("must be between 0 and lock.every_usd ({e})"),
                    ));
                }
            }
        }
        if let (Some(r), Some(h)) = (
            self.reduce_below_available_usd,
            self.halt_below_available_usd,
        ) {
            if h >= r {
                out.push((
                    "halt_below_available_usd".into(),
                    format!("must be below reduce_below_available_usd ({r})"),
                ));
            }
        }
        out
    }
}

/// The governor's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RiskState {
    /// Entries allowed.
    #[default]
    Active,
    /// No new entries; open sessions run their own exits.
    Reducing,
    /// Every profile flattened; nothing starts until an operator resets.
    Halted,
}

impl fmt::Display for RiskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Active => "active",
            Self::Reducing => "reducing",
            Self::Halted => "halted",
        })
    }
}

/// What moved the governor, with the figures behind it (USD).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "trigger", rename_all = "snake_case")]
pub enum Trigger {
    /// The day's PnL reached the daily loss cap.
    DailyLoss {
        /// The day's PnL.
        day_pnl: Decimal,
        /// The cap.
        limit: Decimal,
    },
    /// The open sessions together lost `mtm_stop_usd`.
    MtmStop {
        /// Their combined PnL.
        open_pnl: Decimal,
        /// The limit.
        limit: Decimal,
    },
    /// The day's PnL reached the target.
    MtmTarget {
        /// The day's PnL.
        day_pnl: Decimal,
        /// The target.
        target: Decimal,
    },
    /// The day's PnL fell back to the trailed lock.
    Lock {
        /// The day's PnL.
        day_pnl: Decimal,
        /// The lock.
        lock: Decimal,
        /// The day's highest PnL.
        peak: Decimal,
    },
    /// The available balance fell below a level.
    Balance {
        /// The balance.
        available: Decimal,
        /// The level.
        limit: Decimal,
    },
    /// The available balance recovered above `reduce_below_available_usd`.
    BalanceRecovered {
        /// The balance.
        available: Decimal,
        /// The level.
        limit: Decimal,
    },
    /// An operator reset the governor.
    Reset {
        /// Who or what asked (the CLI, the API, ...).
        by: String,
    },
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // USD to the hundredth of a cent: the figures behind the change, not the ledger's.
        let usd = |d: &Decimal| d.round_dp(4).normalize();
        match self {
            Self::DailyLoss { day_pnl, limit } => write!(
                f,
                "the day's PnL {} USD reached the daily loss cap of −{} USD",
                usd(day_pnl),
                usd(limit)
            ),
            Self::MtmStop { open_pnl, limit } => write!(
                f,
                "the open sessions together are at {} USD, past the combined stop of −{} USD",
                usd(open_pnl),
                usd(limit)
            ),
            Self::MtmTarget { day_pnl, target } => write!(
                f,
                "the day's PnL {} USD reached the combined target of {} USD",
                usd(day_pnl),
                usd(target)
            ),
            Self::Lock {
                day_pnl,
                lock,
                peak,
            } => write!(
                f,
                "the day's PnL fell to {} USD, the lock of {} USD (peak {} USD)",
                usd(day_pnl),
                usd(lock),
                usd(peak)
            ),
            Self::Balance { available, limit } => write!(
                f,
                "the available balance {} USD is below {} USD",
                usd(available),
                usd(limit)
            ),
            Self::BalanceRecovered { available, limit } => write!(
                f,
                "the available balance {} USD is back above {} USD",
                usd(available),
                usd(limit)
            ),
            Self::Reset { by } => write!(f, "reset by {by}"),
        }
    }
}

/// One session as the governor sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    /// Its profile.
    pub profile: String,
    /// Its id.
    pub session_id: String,
    /// Its IST trading day.
    pub trading_day: NaiveDate,
    /// Still open (entering, open or exiting).
    pub open: bool,
    /// Net PnL on the governor's basis, USD (realised once closed).
    pub net: Decimal,
}

impl SessionView {
    /// An open session.
    pub fn open(profile: &str, session_id: &str, trading_day: NaiveDate, net: Decimal) -> Self {
        Self {
            profile: profile.into(),
            session_id: session_id.into(),
            trading_day,
            open: true,
            net,
        }
    }

    /// A closed session.
    pub fn closed(profile: &str, session_id: &str, trading_day: NaiveDate, net: Decimal) -> Self {
        Self {
            open: false,
            ..Self::open(profile, session_id, trading_day, net)
        }
    }

    /// The session an engine's heartbeat shows live, with its net on `basis` (the mark while
    /// close-now is unknown); its day is the IST date it opened (`now`'s before it says).
    pub fn of_heartbeat(
        st: &crate::strategy::Status,
        basis: PnlBasis,
        now: DateTime<Utc>,
    ) -> Option<Self> {
        let (id, pnl) = (st.session_id.as_ref()?, st.pnl?);
        let net = net_on(basis, pnl.net, st.close_now_pnl.map(|c| c.net));
        let day = crate::schedule::ist_date(st.opened_at.unwrap_or(now));
        Some(Self::open(&st.profile, id.as_str(), day, net))
    }

    /// A session record as the governor sees it, at its recorded net.
    pub fn of_record(s: &crate::ledger::SessionRecord) -> Self {
        Self {
            profile: s.profile.clone(),
            session_id: s.session_id.to_string(),
            trading_day: s.trading_day,
            open: s.state.is_active(),
            net: s.pnl.net,
        }
    }
}

/// An open session's net on `basis`, from its net at the marks and on closing now (the mark
/// while close-now is unknown).
pub fn net_on(basis: PnlBasis, at_mark: Decimal, close_now: Option<Decimal>) -> Decimal {
    match basis {
        PnlBasis::CloseNow => close_now.unwrap_or(at_mark),
        PnlBasis::Mark => at_mark,
    }
}

/// What the governor is shown at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Book {
    /// Now.
    pub now: DateTime<Utc>,
    /// Every session of today's IST trading day and every open session.
    pub sessions: Vec<SessionView>,
    /// The account's available balance, USD, when known.
    pub available_balance: Option<Decimal>,
}

impl Book {
    /// The day's PnL (today's sessions and every open one) and the open sessions' PnL.
    pub fn pnl(&self) -> (Decimal, Decimal) {
        let today = crate::schedule::ist_date(self.now);
        let mut day = Decimal::ZERO;
        let mut open = Decimal::ZERO;
        for s in &self.sessions {
            if s.open {
                open += s.net;
            }
            if s.open || s.trading_day == today {
                day += s.net;
            }
        }
        (day, open)
    }
}

/// A change of state, with why and the figures at that moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Transition {
    /// When.
    pub at: DateTime<Utc>,
    /// The state left.
    pub from: RiskState,
    /// The state entered.
    pub to: RiskState,
    /// Why.
    pub trigger: Trigger,
    /// The day's PnL counted from the last reset, USD.
    pub day_pnl: Decimal,
    /// The open sessions' PnL, USD.
    pub open_pnl: Decimal,
}

impl fmt::Display for Transition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "account risk {} → {}: {} (day's PnL {} USD, open {} USD)",
            self.from,
            self.to,
            self.trigger,
            self.day_pnl.round_dp(4).normalize(),
            self.open_pnl.round_dp(4).normalize()
        )
    }
}

/// What the governor keeps between observations (and across restarts, in the ledger).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GovernorState {
    /// The state.
    pub state: RiskState,
    /// What put it there (`None` while active from the start).
    pub trigger: Option<Trigger>,
    /// Since when.
    pub since: Option<DateTime<Utc>>,
    /// The IST trading day being counted.
    pub day: Option<NaiveDate>,
    /// The day's PnL at the last reset of that day: limits count from there.
    pub baseline: Decimal,
    /// The day's highest PnL (counted from the baseline).
    pub peak: Option<Decimal>,
    /// The trailed lock, USD; it never decreases within a day.
    pub lock: Option<Decimal>,
}

/// The account risk governor.
#[derive(Debug, Clone)]
pub struct Governor {
    limits: AccountRisk,
    st: GovernorState,
    /// The figures of the last book.
    last: (Decimal, Decimal),
}

impl Governor {
    /// A governor in the `active` state.
    pub fn new(limits: AccountRisk) -> Self {
        Self::resume(limits, GovernorState::default())
    }

    /// A governor carrying on from a recorded state.
    pub fn resume(limits: AccountRisk, state: GovernorState) -> Self {
        Self {
            limits,
            st: state,
            last: (Decimal::ZERO, Decimal::ZERO),
        }
    }

    /// The limits.
    pub fn limits(&self) -> &AccountRisk {
        &self.limits
    }

    /// The state to record.
    pub fn state(&self) -> &GovernorState {
        &self.st
    }

    /// The day's PnL (from the last reset) and the open sessions' PnL of the last book.
    pub fn figures(&self) -> (Decimal, Decimal) {
        self.last
    }

    /// Reads `book`; returns the transition when the state changes.
    pub fn observe(&mut self, book: &Book) -> Option<Transition> {
        let today = crate::schedule::ist_date(book.now);
        if self.st.day != Some(today) {
            // A new trading day: the count starts again; a halt stays.
            self.st.day = Some(today);
            self.st.baseline = Decimal::ZERO;
            self.st.peak = None;
            self.st.lock = None;
        }
        let (day_raw, open) = book.pnl();
        let day = day_raw - self.st.baseline;
        self.last = (day, open);
        self.st.peak = Some(self.st.peak.map_or(day, |p| p.max(day)));
        if let (Some(l), Some(peak)) = (&self.limits.lock, self.st.peak) {
            if let Some(lock) = l.lock_for(peak) {
                self.st.lock = Some(self.st.lock.map_or(lock, |x| x.max(lock)));
            }
        }
        let trigger = self.halt_trigger(day, open, book.available_balance);
        let next = match (&trigger, self.st.state) {
            (_, RiskState::Halted) => return None,
            (Some(t), _) => (RiskState::Halted, t.clone()),
            (None, state) => match self.balance_state(book.available_balance) {
                Some((to, t)) if to != state => (to, t),
                _ => return None,
            },
        };
        Some(self.enter(book.now, next.0, next.1))
    }

    /// The operator's reset: back to `active`, the day's count starting again from its
    /// current PnL (a loss already booked does not halt again at once). Returns the transition
    /// (from whatever state, `active` included).
    pub fn reset(&mut self, book: &Book, by: &str) -> Transition {
        let today = crate::schedule::ist_date(book.now);
        let (day_raw, open) = book.pnl();
        self.st.day = Some(today);
        self.st.baseline = day_raw;
        self.st.peak = None;
        self.st.lock = None;
        self.last = (Decimal::ZERO, open);
        self.enter(
            book.now,
            RiskState::Active,
            Trigger::Reset { by: by.to_string() },
        )
    }

    fn enter(&mut self, at: DateTime<Utc>, to: RiskState, trigger: Trigger) -> Transition {
        let from = self.st.state;
        self.st.state = to;
        self.st.trigger = Some(trigger.clone());
        self.st.since = Some(at);
        Transition {
            at,
            from,
            to,
            trigger,
            day_pnl: self.last.0,
            open_pnl: self.last.1,
        }
    }

    /// The first limit that halts, in a fixed order.
    fn halt_trigger(
        &self,
        day: Decimal,
        open: Decimal,
        available: Option<Decimal>,
    ) -> Option<Trigger> {
        let l = &self.limits;
        if let Some(limit) = l.daily_loss_usd.filter(|m| day <= -*m) {
            return Some(Trigger::DailyLoss {
                day_pnl: day,
                limit,
            });
        }
        if let Some(limit) = l.mtm_stop_usd.filter(|m| open <= -*m) {
            return Some(Trigger::MtmStop {
                open_pnl: open,
                limit,
            });
        }
        if let (Some(limit), Some(a)) = (l.halt_below_available_usd, available) {
            if a < limit {
                return Some(Trigger::Balance {
                    available: a,
                    limit,
                });
            }
        }
        if let (Some(lock), Some(peak)) = (self.st.lock, self.st.peak) {
            if day <= lock {
                return Some(Trigger::Lock {
                    day_pnl: day,
                    lock,
                    peak,
                });
            }
        }
        if let Some(target) = l.mtm_target_usd.filter(|t| day >= *t) {
            return Some(Trigger::MtmTarget {
                day_pnl: day,
                target,
            });
        }
        None
    }

    /// The state the balance alone asks for (reducing below its level, active above), when a
    /// balance and a level are known.
    fn balance_state(&self, available: Option<Decimal>) -> Option<(RiskState, Trigger)> {
        let (limit, a) = (self.limits.reduce_below_available_usd?, available?);
        Some(if a < limit {
            (
                RiskState::Reducing,
                Trigger::Balance {
                    available: a,
                    limit,
                },
            )
        } else {
            (
                RiskState::Active,
                Trigger::BalanceRecovered {
                    available: a,
                    limit,
                },
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 10, 5, 0, 0)
            .single()
            .expect("time")
    }

    fn book(at: DateTime<Utc>, open: &[Decimal], closed: &[Decimal]) -> Book {
        let day = crate::schedule::ist_date(at);
        let mut sessions: Vec<SessionView> = open
            .iter()
            .enumerate()
            .map(|(i, n)| SessionView::open("p", &format!("o{i}"), day, *n))
            .collect();
        sessions.extend(
            closed
                .iter()
                .enumerate()
                .map(|(i, n)| SessionView::closed("p", &format!("c{i}"), day, *n)),
        );
        Book {
            now: at,
            sessions,
            available_balance: None,
        }
    }

    fn limits() -> AccountRisk {
        AccountRisk {
            daily_loss_usd: Some(dec!(100)),
            mtm_stop_usd: Some(dec!(60)),
            mtm_target_usd: Some(dec!(200)),
            ..AccountRisk::default()
        }
    }

    #[test]
    fn the_day_counts_closed_sessions_of_today_and_every_open_one() {
        let now = t0();
        let mut b = book(now, &[dec!(-10)], &[dec!(-30), dec!(5)]);
        b.sessions.push(SessionView::closed(
            "p",
            "yesterday",
            crate::schedule::ist_date(now) - Duration::days(1),
            dec!(-500),
        ));
        b.sessions.push(SessionView::open(
            "q",
            "older-open",
            crate::schedule::ist_date(now) - Duration::days(1),
            dec!(-7),
        ));
        assert_eq!(b.pnl(), (dec!(-42), dec!(-17)));
    }

    #[test]
    fn each_limit_halts_with_its_figures() {
        let mut g = Governor::new(limits());
        // Realised −50 and open −49: the day is at −99, the open sessions at −49.
        assert_eq!(g.observe(&book(t0(), &[dec!(-49)], &[dec!(-50)])), None);
        let t = g
            .observe(&book(t0(), &[dec!(-50)], &[dec!(-50)]))
            .expect("halted");
        assert_eq!(t.to, RiskState::Halted);
        assert_eq!(
            t.trigger,
            Trigger::DailyLoss {
                day_pnl: dec!(-100),
                limit: dec!(100)
            }
        );
        let mut g = Governor::new(limits());
        let t = g.observe(&book(t0(), &[dec!(-60)], &[])).expect("halted");
        assert!(matches!(t.trigger, Trigger::MtmStop { .. }), "{t}");
        let mut g = Governor::new(limits());
        let t = g
            .observe(&book(t0(), &[dec!(150)], &[dec!(50)]))
            .expect("halted");
        assert!(matches!(t.trigger, Trigger::MtmTarget { .. }), "{t}");
    }

    #[test]
    fn the_lock_trails_the_peak_and_halts_on_the_way_back() {
        let l = AccountRisk {
            lock: Some(LockTrail {
                trigger_usd: dec!(50),
                lock_usd: dec!(20),
                every_usd: Some(dec!(10)),
                step_usd: Some(dec!(5)),
            }),
            ..AccountRisk::default()
        };
        let mut g = Governor::new(l);
        assert_eq!(g.observe(&book(t0(), &[dec!(49)], &[])), None);
        assert_eq!(g.state().lock, None);
        assert_eq!(g.observe(&book(t0(), &[dec!(75)], &[])), None);
        assert_eq!(g.state().lock, Some(dec!(30)), "20 + 2 steps of 5");
        assert_eq!(g.observe(&book(t0(), &[dec!(31)], &[])), None);
        let t = g.observe(&book(t0(), &[dec!(30)], &[])).expect("halted");
        assert_eq!(
            t.trigger,
            Trigger::Lock {
                day_pnl: dec!(30),
                lock: dec!(30),
                peak: dec!(75)
            }
        );
    }

    #[test]
    fn a_low_balance_reduces_then_recovers_or_halts() {
        let l = AccountRisk {
            reduce_below_available_usd: Some(dec!(1000)),
            halt_below_available_usd: Some(dec!(500)),
            ..AccountRisk::default()
        };
        let mut g = Governor::new(l);
        let with = |a| Book {
            available_balance: Some(a),
            ..book(t0(), &[], &[])
        };
        assert_eq!(g.observe(&with(dec!(1000))), None);
        let t = g.observe(&with(dec!(999))).expect("reducing");
        assert_eq!((t.from, t.to), (RiskState::Active, RiskState::Reducing));
        assert_eq!(g.observe(&with(dec!(900))), None, "no new transition");
        let t = g.observe(&with(dec!(1200))).expect("active");
        assert_eq!(t.to, RiskState::Active);
        let t = g.observe(&with(dec!(400))).expect("halted");
        assert_eq!(t.to, RiskState::Halted);
        assert_eq!(
            g.observe(&with(dec!(5000))),
            None,
            "a halt waits for a reset"
        );
    }

    #[test]
    fn a_reset_counts_the_day_again_from_where_it_stands() {
        let mut g = Governor::new(limits());
        g.observe(&book(t0(), &[dec!(-20)], &[dec!(-90)]))
            .expect("halted");
        let t = g.reset(&book(t0(), &[dec!(-20)], &[dec!(-90)]), "test");
        assert_eq!((t.from, t.to), (RiskState::Halted, RiskState::Active));
        // −110 at the reset: the cap of 100 counts from there.
        assert_eq!(g.observe(&book(t0(), &[dec!(-50)], &[dec!(-90)])), None);
        assert_eq!(g.figures(), (dec!(-30), dec!(-50)));
        let t = g
            .observe(&book(t0(), &[dec!(-20)], &[dec!(-190)]))
            .expect("halted again");
        assert!(matches!(t.trigger, Trigger::DailyLoss { .. }));
    }

    #[test]
    fn a_new_day_counts_afresh_but_keeps_a_halt() {
        let mut g = Governor::new(limits());
        g.observe(&book(t0(), &[], &[dec!(-100)])).expect("halted");
        let tomorrow = t0() + Duration::days(1);
        assert_eq!(g.observe(&book(tomorrow, &[], &[])), None);
        assert_eq!(g.state().state, RiskState::Halted);
        assert_eq!(g.figures().0, dec!(0));
        let mut g = Governor::new(limits());
        g.observe(&book(t0(), &[], &[dec!(-99)]));
        assert_eq!(g.observe(&book(tomorrow, &[], &[dec!(-99)])), None);
        assert_eq!(
            g.state().baseline,
            dec!(0),
            "yesterday's loss is not today's"
        );
    }

    #[test]
    fn bad_limits_are_named() {
        let l = AccountRisk {
            daily_loss_usd: Some(dec!(-5)),
            reduce_below_available_usd: Some(dec!(100)),
            halt_below_available_usd: Some(dec!(200)),
            lock: Some(LockTrail {
                trigger_usd: dec!(50),
                lock_usd: dec!(60),
                every_usd: Some(dec!(10)),
                step_usd: None,
            }),
            ..AccountRisk::default()
        };
        let fields: Vec<String> = l.problems().into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            [
                "daily_loss_usd",
                "lock.lock_usd",
                "lock.step_usd",
                "halt_below_available_usd"
            ]
        );
        assert!(AccountRisk::default().problems().is_empty());
        assert!(!AccountRisk::default().is_set());
    }

    #[test]
    fn the_readme_limits_are_valid() {
        let readme = include_str!("../../../README.md");
        let start = readme
            .find("```toml\n# examples/risk.toml")
            .expect("the README's limits")
            + 8;
        let end = start + readme[start..].find("```").expect("its end");
        let file = include_str!("../../../examples/risk.toml");
        assert_eq!(
            &readme[start..end],
            file,
            "README shows examples/risk.toml as it is"
        );
        let l: AccountRisk = toml::from_str(file).expect("they parse");
        assert!(l.problems().is_empty(), "{:?}", l.problems());
        assert_eq!(l.daily_loss_usd, Some(dec!(150)));
        let lock = l.lock.expect("a lock");
        assert_eq!(lock.lock_for(dec!(205)), Some(dec!(90)), "40 + 2 × 25");
    }

    proptest! {
        /// Whatever the PnL does within a day, the lock never decreases, a halt is never left
        /// without a reset, and the day's loss never passes the cap while active.
        #[test]
        fn the_lock_never_loosens_and_a_halt_holds(
            path in proptest::collection::vec(-300i64..300, 1..60)
        ) {
            let mut l = limits();
            l.lock = Some(LockTrail {
                trigger_usd: dec!(40),
                lock_usd: dec!(10),
                every_usd: Some(dec!(20)),
                step_usd: Some(dec!(10)),
            });
            let mut g = Governor::new(l);
            let mut lock = None;
            let mut halted = false;
            for (i, pnl) in path.into_iter().enumerate() {
                let at = t0() + Duration::minutes(i as i64);
                g.observe(&book(at, &[Decimal::from(pnl)], &[]));
                let now = g.state();
                prop_assert!(now.lock >= lock, "{:?} after {:?}", now.lock, lock);
                lock = now.lock;
                prop_assert!(!halted || now.state == RiskState::Halted);
                halted = now.state == RiskState::Halted;
                if now.state == RiskState::Active {
                    prop_assert!(g.figures().0 > dec!(-100));
                }
            }
        }
    }
}
