//! Operator notices: what is worth telling someone about, worked out from heartbeats.
//!
//! [`NoticeTracker`] watches successive [`Status`] snapshots of one engine and says when a
//! strangle was opened, when a session closed, when a new error appeared, and when an IST
//! trading day ended (with that day's totals). It is pure: the same heartbeats give the same
//! notices, so it is tested without a network; delivery (webhook, Telegram) lives in the
//! adapters.
//!
//! ```
//! use strangle_core::notice::NoticeTracker;
//! # use strangle_core::strategy::Status;
//! # fn demo(a: Status, b: Status) {
//! let mut t = NoticeTracker::default();
//! for n in t.observe(&a).into_iter().chain(t.observe(&b)) {
//!     println!("{}", n.text());
//! }
//! # }
//! ```

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ids::{SessionId, Symbol};
use crate::ledger::Mode;
use crate::model::OptionKind;
use crate::risk::ExitReason;
use crate::schedule::ist_date;
use crate::strategy::{Phase, Status};

/// One leg of an opened strangle, as announced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NoticeLeg {
    /// Call or put.
    pub kind: OptionKind,
    /// Contract symbol.
    pub symbol: Symbol,
    /// Strike, USD.
    pub strike: Decimal,
    /// Contracts sold.
    pub size: Decimal,
    /// Average sale price, USD.
    pub price: Option<Decimal>,
    /// Delta at selection.
    pub delta: Option<f64>,
}

impl NoticeLeg {
    fn new(
        kind: OptionKind,
        symbol: &Symbol,
        strike: Decimal,
        size: Decimal,
        price: Option<Decimal>,
        delta: Option<f64>,
    ) -> Self {
        Self {
            kind,
            symbol: symbol.clone(),
            strike,
            size,
            price,
            delta,
        }
    }
}

/// Something an operator should hear about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Notice {
    /// Both legs of a strangle are short.
    Entry {
        /// Profile name.
        profile: String,
        /// Live, paper or sim.
        mode: Mode,
        /// Session id.
        session_id: SessionId,
        /// When it was seen open.
        at: DateTime<Utc>,
        /// Call and put.
        legs: Vec<NoticeLeg>,
        /// Premium received, USD.
        premium: Decimal,
        /// Spot at entry.
        spot: Option<Decimal>,
    },
    /// A session is flat.
    Exit {
        /// Profile name.
        profile: String,
        /// Live, paper or sim.
        mode: Mode,
        /// Session id.
        session_id: SessionId,
        /// When it closed.
        at: DateTime<Utc>,
        /// Why.
        reason: Option<ExitReason>,
        /// Net PnL after fees, USD.
        net: Decimal,
        /// Fees, USD.
        fees: Decimal,
        /// Premium received, USD.
        premium: Decimal,
    },
    /// A new error (each distinct message once in a row).
    Error {
        /// Profile name.
        profile: String,
        /// Live, paper or sim.
        mode: Mode,
        /// When it was seen.
        at: DateTime<Utc>,
        /// What went wrong (never a secret).
        message: String,
    },
    /// The account risk governor changed state, with the figures behind it.
    AccountRisk {
        /// The change.
        transition: crate::governor::Transition,
    },
    /// The totals of an IST trading day, sent once the day is over.
    DailySummary {
        /// Profile name.
        profile: String,
        /// Live, paper or sim.
        mode: Mode,
        /// The IST date summarised.
        day: NaiveDate,
        /// Sessions closed that day.
        sessions: usize,
        /// Sessions with a positive net.
        wins: usize,
        /// Net PnL, USD.
        net: Decimal,
        /// Fees, USD.
        fees: Decimal,
    },
}

impl Notice {
    /// The event's name: `entry`, `exit`, `error`, `daily_summary` or `account_risk`.
    pub fn event(&self) -> &'static str {
        match self {
            Self::Entry { .. } => "entry",
            Self::Exit { .. } => "exit",
            Self::Error { .. } => "error",
            Self::DailySummary { .. } => "daily_summary",
            Self::AccountRisk { .. } => "account_risk",
        }
    }

    /// A one-message text for chat apps.
    pub fn text(&self) -> String {
        match self {
            Self::Entry {
                profile,
                mode,
                session_id,
                legs,
                premium,
                spot,
                ..
            } => {
                let legs: Vec<String> = legs
                    .iter()
                    .map(|g| {
                        format!(
                            "{} {} @ {}",
                            g.symbol,
                            g.size,
                            g.price.map_or("-".into(), |p| p.round_dp(2).to_string())
                        )
                    })
                    .collect();
                format!(
                    "[{profile} · {mode}] strangle opened ({session_id}): {}; premium {} USD; spot {}",
                    legs.join(", "),
                    premium.round_dp(4),
                    spot.map_or("-".into(), |s| s.round_dp(2).to_string())
                )
            }
            Self::Exit {
                profile,
                mode,
                session_id,
                reason,
                net,
                fees,
                ..
            } => format!(
                "[{profile} · {mode}] session {session_id} closed ({}): net {} USD, fees {} USD",
                reason.map_or("unknown".into(), |r| r.to_string()),
                net.round_dp(4),
                fees.round_dp(4)
            ),
            Self::Error {
                profile,
                mode,
                message,
                ..
            } => format!("[{profile} · {mode}] error: {message}"),
            Self::AccountRisk { transition } => format!("[account] {transition}"),
            Self::DailySummary {
                profile,
                mode,
                day,
                sessions,
                wins,
                net,
                fees,
            } => format!(
                "[{profile} · {mode}] {day} (IST): {sessions} session(s), {wins} win(s), net {} USD, fees {} USD",
                net.round_dp(4),
                fees.round_dp(4)
            ),
        }
    }
}

/// Turns successive heartbeats of one engine into notices.
#[derive(Debug, Clone, Default)]
pub struct NoticeTracker {
    announced_entry: Option<SessionId>,
    announced_exit: Option<SessionId>,
    last_error: Option<String>,
    day: Option<NaiveDate>,
    today: DayTotals,
}

#[derive(Debug, Clone, Copy, Default)]
struct DayTotals {
    sessions: usize,
    wins: usize,
    net: Decimal,
    fees: Decimal,
}

impl NoticeTracker {
    /// A tracker that treats `first` as already known: nothing in it is announced again
    /// (an engine resumed with an open strangle does not re-announce its entry).
    pub fn starting_from(first: &Status) -> Self {
        let mut t = Self::default();
        if first.phase != Phase::Entering {
            t.announced_entry = first.session_id.clone();
        }
        t.announced_exit = first.last_session.as_ref().map(|s| s.session_id.clone());
        t.last_error = first.last_error.clone();
        t.day = Some(ist_date(first.at));
        t
    }

    /// The notices that `s` brings, in order: a day summary first (the day ended before
    /// anything in `s` happened), then exit, entry, error.
    pub fn observe(&mut self, s: &Status) -> Vec<Notice> {
        let mut out = Vec::new();
        let day = ist_date(s.at);
        match self.day {
            Some(d) if d < day => {
                out.push(Notice::DailySummary {
                    profile: s.profile.clone(),
                    mode: s.mode,
                    day: d,
                    sessions: self.today.sessions,
                    wins: self.today.wins,
                    net: self.today.net,
                    fees: self.today.fees,
                });
                self.today = DayTotals::default();
                self.day = Some(day);
            }
            None => self.day = Some(day),
            _ => {}
        }
        if let Some(last) = &s.last_session {
            if self.announced_exit.as_ref() != Some(&last.session_id) {
                self.announced_exit = Some(last.session_id.clone());
                // A session that opened and closed between two observed heartbeats still gets
                // its entry announced first (when anything was sold).
                let sold = last.legs.iter().any(|g| g.book.entry_price().is_some());
                if sold && self.announced_entry.as_ref() != Some(&last.session_id) {
                    self.announced_entry = Some(last.session_id.clone());
                    out.push(Notice::Entry {
                        profile: s.profile.clone(),
                        mode: s.mode,
                        session_id: last.session_id.clone(),
                        at: last.opened_at,
                        legs: last
                            .legs
                            .iter()
                            .map(|g| {
                                let price = g.book.entry_price();
                                NoticeLeg::new(
                                    g.kind,
                                    &g.symbol,
                                    g.strike,
                                    g.book.sold,
                                    price,
                                    g.entry_delta,
                                )
                            })
                            .collect(),
                        premium: last.pnl.premium,
                        spot: last.entry_spot,
                    });
                }
                self.today.sessions += 1;
                if last.pnl.net > Decimal::ZERO {
                    self.today.wins += 1;
                }
                self.today.net += last.pnl.net;
                self.today.fees += last.pnl.fees;
                out.push(Notice::Exit {
                    profile: s.profile.clone(),
                    mode: s.mode,
                    session_id: last.session_id.clone(),
                    at: last.closed_at.unwrap_or(s.at),
                    reason: last.exit_reason,
                    net: last.pnl.net,
                    fees: last.pnl.fees,
                    premium: last.pnl.premium,
                });
            }
        }
        let opened = matches!(s.phase, Phase::Open | Phase::Exiting);
        if let (true, Some(id)) = (opened, &s.session_id) {
            if self.announced_entry.as_deref() != Some(id.as_str()) {
                self.announced_entry = Some(id.clone());
                out.push(Notice::Entry {
                    profile: s.profile.clone(),
                    mode: s.mode,
                    session_id: id.clone(),
                    at: s.at,
                    legs: s
                        .legs
                        .iter()
                        .map(|g| {
                            NoticeLeg::new(
                                g.kind,
                                &g.symbol,
                                g.strike,
                                g.open,
                                g.entry_price,
                                g.entry_delta,
                            )
                        })
                        .collect(),
                    premium: s.pnl.map(|p| p.premium).unwrap_or_default(),
                    spot: s.entry_spot,
                });
            }
        }
        if s.last_error != self.last_error {
            self.last_error = s.last_error.clone();
            if let Some(message) = &s.last_error {
                out.push(Notice::Error {
                    profile: s.profile.clone(),
                    mode: s.mode,
                    at: s.at,
                    message: message.clone(),
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::Strategy;
    use chrono::TimeZone;

    fn status(at: DateTime<Utc>) -> Status {
        Strategy::new(crate::profile::Profile::named("t"), Mode::Sim).status(at)
    }

    #[test]
    fn errors_are_announced_once_per_change() {
        let t0 = Utc
            .with_ymd_and_hms(2026, 3, 9, 6, 0, 0)
            .single()
            .expect("time");
        let mut tr = NoticeTracker::default();
        let mut s = status(t0);
        assert!(tr.observe(&s).is_empty());
        s.last_error = Some("exchange: rate_limited".into());
        let n = tr.observe(&s);
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].event(), "error");
        assert!(tr.observe(&s).is_empty(), "same error, no second notice");
        s.last_error = None;
        assert!(tr.observe(&s).is_empty());
    }

    #[test]
    fn a_new_ist_day_sends_the_summary_of_the_last_one() {
        // 18:00 UTC = 23:30 IST on the 9th; 19:00 UTC = 00:30 IST on the 10th.
        let t0 = Utc
            .with_ymd_and_hms(2026, 3, 9, 18, 0, 0)
            .single()
            .expect("time");
        let mut tr = NoticeTracker::starting_from(&status(t0));
        assert!(tr
            .observe(&status(t0 + chrono::Duration::minutes(20)))
            .is_empty());
        let n = tr.observe(&status(t0 + chrono::Duration::hours(1)));
        assert_eq!(n.len(), 1);
        match &n[0] {
            Notice::DailySummary { day, sessions, .. } => {
                assert_eq!(*day, NaiveDate::from_ymd_opt(2026, 3, 9).expect("date"));
                assert_eq!(*sessions, 0);
            }
            other => panic!("expected a summary, got {other:?}"),
        }
        assert!(n[0].text().contains("2026-03-09 (IST)"));
    }
}
