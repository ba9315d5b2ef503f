//! The heartbeat: what the strategy is doing, readable at any moment.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{Phase, Strategy};
use crate::ids::{SessionId, Symbol};
use crate::ledger::{Mode, SessionRecord};
use crate::model::OptionKind;
use crate::pnl::SessionPnl;
use crate::risk::ExitReason;
use crate::schedule;

/// One leg as shown to an operator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LegStatus {
    /// Call or put.
    pub kind: OptionKind,
    /// Contract symbol.
    pub symbol: Symbol,
    /// Strike, USD.
    pub strike: Decimal,
    /// Delta at selection.
    pub entry_delta: Option<f64>,
    /// Contracts still short.
    pub open: Decimal,
    /// Average sale price.
    pub entry_price: Option<Decimal>,
    /// Latest mark.
    pub mark: Option<Decimal>,
    /// Net PnL of the leg at the mark, USD.
    pub pnl: Decimal,
    /// Strike distance from spot in % of spot (positive = out of the money).
    pub distance_pct: Option<Decimal>,
    /// Trigger price of the leg's stop resting at the venue (`None`: none is known to rest).
    #[serde(default)]
    pub venue_stop: Option<Decimal>,
    /// Why this leg alone was closed or is being closed (a leg rule, or its venue stop under
    /// a policy that keeps the other leg); `None` while it runs with the session.
    #[serde(default)]
    pub exit_reason: Option<ExitReason>,
    /// This leg's stop moved to its cost after the other leg's stop.
    #[serde(default)]
    pub stop_at_cost: bool,
}

/// A snapshot of the engine's state for heartbeats, status lines and dashboards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Status {
    /// Profile name.
    pub profile: String,
    /// Live, paper, sim or backtest.
    pub mode: Mode,
    /// Current phase.
    pub phase: Phase,
    /// When this snapshot was taken.
    pub at: DateTime<Utc>,
    /// Next entry window start (or now, when a late start may enter), when waiting.
    pub next_entry: Option<DateTime<Utc>>,
    /// The rule `next_entry` follows: the daily window, or a late start.
    #[serde(default)]
    pub next_entry_rule: Option<schedule::EntryRule>,
    /// Active session id.
    pub session_id: Option<SessionId>,
    /// Planned IST exit of the active session.
    pub planned_exit: Option<DateTime<Utc>>,
    /// Expiry of the active session.
    pub expiry: Option<DateTime<Utc>>,
    /// Legs of the active session.
    pub legs: Vec<LegStatus>,
    /// PnL of the active session at the marks.
    pub pnl: Option<SessionPnl>,
    /// Net PnL in % of premium.
    pub pnl_pct: Option<Decimal>,
    /// PnL if the open legs were bought back now at the asks, exit fees included (`None`
    /// while a leg has no ask).
    pub close_now_pnl: Option<SessionPnl>,
    /// `close_now_pnl`'s net in % of premium.
    pub close_now_pnl_pct: Option<Decimal>,
    /// Locked trailing level, % of premium.
    pub trailing_level: Option<Decimal>,
    /// Highest profit seen, % of premium.
    pub max_profit_pct: Option<Decimal>,
    /// Deepest drawdown seen, % of premium.
    pub max_drawdown_pct: Option<Decimal>,
    /// Latest spot.
    pub spot: Option<Decimal>,
    /// Spot at entry.
    pub entry_spot: Option<Decimal>,
    /// Lowest spot seen since entry (or since the engine resumed the session).
    pub spot_low: Option<Decimal>,
    /// Highest spot seen since entry (or since the engine resumed the session).
    pub spot_high: Option<Decimal>,
    /// When the active session's entry started.
    pub opened_at: Option<DateTime<Utc>>,
    /// Why the session is exiting (or why the last one closed).
    pub exit_reason: Option<ExitReason>,
    /// Why the open entry window has not been used yet: the selection's failure with the
    /// nearest contracts (cleared outside the window and once a strangle is entered).
    pub no_entry_reason: Option<String>,
    /// Legs whose latest quote is older than the profile's `max_quote_age_secs` (or missing)
    /// while a strangle is live: profit exits are not checked and no order is priced until a
    /// fresh one comes.
    pub stale_quotes: Option<String>,
    /// Where the venue's quotes come from, when it says.
    pub quote_source: Option<crate::exchange::QuoteSource>,
    /// Request units left in the venue's rate-limit window for this account (Delta: of
    /// 10,000 per 5 minutes, shared by every engine on the key); `None` without a limit.
    #[serde(default)]
    pub rate_budget_left: Option<u32>,
    /// Why no new strangle will be entered (an order the venue never let go of, a dead-man
    /// switch not known to be armed); `None` when entries are allowed. An open strangle is
    /// still managed while entries are held.
    #[serde(default)]
    pub entry_hold: Option<String>,
    /// Most recent error.
    pub last_error: Option<String>,
    /// The last closed session.
    pub last_session: Option<SessionRecord>,
    /// The latest check of a closed session's money against the venue's records (engines
    /// that check: live and the local market).
    #[serde(default)]
    pub reconciliation: Option<crate::reconciliation::Reconciliation>,
}

impl Strategy {
    /// The current state as a [`Status`].
    pub fn status(&self, now: DateTime<Utc>) -> Status {
        let rec = self.live.as_ref().map(|l| &l.rec);
        let range = self.live.as_ref().and_then(|l| l.spot_range);
        let close_now = self.live.as_ref().and_then(|l| l.close_now);
        let spot = self.spot;
        let legs = rec
            .map(|r| {
                r.legs
                    .iter()
                    .enumerate()
                    .map(|(i, g)| {
                        let distance_pct = spot.filter(|s| !s.is_zero()).map(|s| {
                            let d = match g.kind {
                                OptionKind::Call => g.strike - s,
                                OptionKind::Put => s - g.strike,
                            };
                            (d * Decimal::ONE_HUNDRED / s).round_dp(4)
                        });
                        LegStatus {
                            kind: g.kind,
                            symbol: g.symbol.clone(),
                            strike: g.strike,
                            entry_delta: g.entry_delta,
                            open: g.book.open(),
                            entry_price: g.book.entry_price(),
                            mark: g.mark,
                            pnl: g.pnl_at_mark().net,
                            distance_pct,
                            venue_stop: self.resting_stop(i),
                            exit_reason: g.exit_reason,
                            stop_at_cost: g.stop_at_cost,
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        let waiting = self.live.is_none() && self.phase == Phase::Waiting;
        let next = waiting.then(|| self.next_entry(now));
        Status {
            profile: self.profile.name.clone(),
            mode: self.mode,
            phase: self.phase,
            at: now,
            next_entry: next.map(|n| n.0),
            next_entry_rule: next.map(|n| n.1),
            session_id: rec.map(|r| r.session_id.clone()),
            planned_exit: rec.map(|r| r.planned_exit),
            expiry: rec.map(|r| r.expiry),
            legs,
            pnl: rec.map(|r| r.pnl),
            pnl_pct: rec.and_then(|r| r.pnl.pct_of_premium()),
            close_now_pnl: close_now,
            close_now_pnl_pct: close_now.and_then(|c| c.pct_of_premium()),
            trailing_level: rec.and_then(|r| r.trailing_level),
            max_profit_pct: rec.and_then(|r| r.peak_pnl_pct),
            max_drawdown_pct: rec.and_then(|r| r.trough_pnl_pct),
            spot,
            entry_spot: rec.and_then(|r| r.entry_spot),
            spot_low: range.map(|r| r.0),
            spot_high: range.map(|r| r.1),
            opened_at: rec.map(|r| r.opened_at),
            exit_reason: rec
                .and_then(|r| r.exit_reason)
                .or(self.last_closed.as_ref().and_then(|r| r.exit_reason)),
            no_entry_reason: self
                .last_no_entry
                .as_ref()
                .filter(|_| self.phase == Phase::Waiting && self.entry_day(now).is_some())
                .map(ToString::to_string),
            stale_quotes: self.stale_quotes(now),
            quote_source: None,
            rate_budget_left: None,
            reconciliation: None,
            entry_hold: self.entry_hold(),
            last_error: self.last_error.clone(),
            last_session: self.last_closed.clone(),
        }
    }

    /// Says which legs have no fresh quote, while a strangle is live.
    fn stale_quotes(&self, now: DateTime<Utc>) -> Option<String> {
        let l = self.live.as_ref()?;
        if !matches!(self.phase, Phase::Entering | Phase::Open | Phase::Exiting)
            || now >= l.rec.expiry
        {
            return None;
        }
        let max = self.profile.liquidity.max_quote_age_secs;
        let stale: Vec<String> = l
            .rec
            .legs
            .iter()
            .enumerate()
            .filter(|(_, g)| self.phase == Phase::Entering || g.book.open() > Decimal::ZERO)
            .filter(|(i, _)| l.fresh_quote(*i, now, max).is_none())
            .map(|(i, g)| match &l.quotes[i] {
                Some(q) => format!("{} ({} s old)", g.symbol, q.age_secs(now)),
                None => format!("{} (none yet)", g.symbol),
            })
            .collect();
        (!stale.is_empty()).then(|| {
            format!(
                "waiting for fresh quotes (at most {max} s old): {}; no profit exit is checked \
                 and no order priced on an older one",
                stale.join(", ")
            )
        })
    }
}
