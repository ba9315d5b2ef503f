//! A portfolio backtest: several profiles on the same data under one account risk governor.
//!
//! Each profile runs as in a [`Backtest`] of its own (its engine, its simulated venue and
//! cash, the same snapshots, its own step times), and all of them advance together one poll
//! interval at a time. After every interval the governor reads every session (today's and the
//! open ones, on its basis) and the account's balance (the venues' cash together); when it
//! changes state, every engine is told, and applies it at its next step, as `strangle serve`
//! tells its engines. A halt lasts until an operator resets it: a backtest plays that operator
//! with [`OperatorReset`].
//!
//! With no limit set the governor never acts, and every profile's result is its own backtest's
//! to the last digit (tested).

use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::sweep::SharedFeed;
use super::{Backtest, BacktestResult, DataStats, Run};
use crate::analytics::{analyze, Analytics};
use crate::audit::EventKind;
use crate::engine::EngineCommand;
use crate::error::{Error, Result};
use crate::governor::{AccountRisk, Book, Governor, RiskState, SessionView, Transition};
use crate::ledger::{AuditEvent, SessionRecord};
use crate::profile::PnlBasis;
use crate::sim::MarketFeed;
use crate::strategy::Status;

/// The rolling win rate's window and the histogram's bars of the account's analytics (as in
/// a backtest's report).
const ACCOUNT_WINDOW: usize = 10;
const ACCOUNT_BUCKETS: usize = 20;

/// When the simulated operator resets a halted governor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OperatorReset {
    /// At the first interval of the next IST trading day (the default: an operator who looks
    /// each morning).
    #[default]
    NextDay,
    /// Never: a halt ends the run's trading.
    Never,
}

/// A portfolio backtest's settings.
#[derive(Debug, Clone)]
pub struct Portfolio {
    /// The profiles, each with its own backtest settings (cash, poll, until, ...); they
    /// advance together by the shortest poll among them.
    pub runs: Vec<Backtest>,
    /// The account's limits.
    pub risk: AccountRisk,
    /// When the simulated operator resets a halt.
    pub reset: OperatorReset,
}

/// What a portfolio backtest produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortfolioResult {
    /// Each profile's result, in the order given.
    pub runs: Vec<BacktestResult>,
    /// The account's limits.
    pub risk: AccountRisk,
    /// Every state change of the governor (resets included), in order.
    pub transitions: Vec<Transition>,
    /// The account's KPIs and series over every profile's sessions together (net, daily net,
    /// max drawdown, ...).
    pub account: Analytics,
}

impl Portfolio {
    /// Runs every profile on `snapshots` (shared, not copied) to the end of the data.
    pub async fn run(
        &self,
        mut snapshots: Vec<crate::model::ChainSnapshot>,
    ) -> Result<PortfolioResult> {
        snapshots.sort_by_key(|c| c.timestamp);
        let data = Arc::new(snapshots);
        self.run_with(|| SharedFeed::new(data.clone())).await
    }

    /// Runs every profile on a feed of its own from `feed` (each the same market) to the end
    /// of the data.
    pub async fn run_with<F: MarketFeed + 'static>(
        &self,
        feed: impl Fn() -> F,
    ) -> Result<PortfolioResult> {
        if self.runs.is_empty() {
            return Err(Error::Engine(
                "a portfolio backtest needs at least one profile".into(),
            ));
        }
        crate::governor::validate(&self.risk)?;
        let mut names = std::collections::HashSet::new();
        for b in &self.runs {
            b.profile.validate()?;
            if !names.insert(b.profile.name.clone()) {
                return Err(Error::Engine(format!(
                    "profile {} is in the portfolio twice: each needs its own name",
                    b.profile.name
                )));
            }
        }
        let start = feed()
            .peek_time()
            .ok_or_else(|| Error::Engine("the backtest data holds no snapshot".into()))?;
        let mut runs = Vec::with_capacity(self.runs.len());
        for b in &self.runs {
            let stats = Arc::new(Mutex::new(DataStats::default()));
            let exhausted = Arc::new(AtomicBool::new(false));
            let counted = super::CountingFeed {
                inner: feed(),
                stats: stats.clone(),
                exhausted: exhausted.clone(),
            };
            runs.push(Run::start(b, counted, stats, exhausted, start).await?);
        }
        let step = self
            .runs
            .iter()
            .map(|b| b.poll)
            .min()
            .unwrap_or_else(|| Duration::minutes(1));
        let until = self.runs.iter().filter_map(|b| b.until).min();
        let mut governor = Governor::new(self.risk.clone());
        let mut closed: BTreeMap<String, SessionView> = BTreeMap::new();
        let mut transitions = Vec::new();
        // Every engine steps on its own schedule, as it would alone ([`Engine::run_to`]); the
        // governor looks every interval, and at the day boundaries a lone backtest stops at
        // (every day from the start, and `until`) every engine stops too, so that with nothing
        // sent each one runs exactly as it would alone.
        let boundary_after = |t: DateTime<Utc>| {
            let b = t + Duration::days(1);
            until.map_or(b, |u| b.min(u))
        };
        let mut boundary = boundary_after(start);
        let mut t = start;
        loop {
            t += step;
            let at_boundary = t >= boundary;
            if at_boundary {
                t = boundary;
            }
            let mut statuses = Vec::with_capacity(runs.len());
            for r in runs.iter_mut() {
                statuses.push(r.engine.run_to(t, at_boundary).await?);
                if at_boundary {
                    r.venue.catch_up();
                }
            }
            let book = book_at(t, &statuses, &mut closed, self.risk.basis, &runs);
            let today = crate::schedule::ist_date(t);
            let reset_due = self.reset == OperatorReset::NextDay
                && governor.state().state == RiskState::Halted
                && governor
                    .state()
                    .since
                    .is_some_and(|s| crate::schedule::ist_date(s) < today);
            let change = if reset_due {
                Some(governor.reset(&book, "the simulated operator (next trading day)"))
            } else {
                governor.observe(&book)
            };
            if let Some(tr) = change {
                for r in runs.iter() {
                    r.handle.send(EngineCommand::AccountRisk {
                        state: tr.to,
                        why: tr.trigger.to_string(),
                    });
                }
                transitions.push(tr);
            }
            if at_boundary {
                boundary = boundary_after(t);
                let done = runs.iter().zip(&statuses).all(|(r, st)| {
                    st.phase == crate::strategy::Phase::Stopped || r.past_end(until)
                });
                if done {
                    break;
                }
            }
        }
        let mut results: Vec<BacktestResult> = runs
            .into_iter()
            .zip(&self.runs)
            .map(|(r, b)| r.finish(b))
            .collect();
        // The governor's changes in every profile's trail, where the report shows them.
        for res in results.iter_mut() {
            for tr in &transitions {
                res.events.push(AuditEvent {
                    at: tr.at,
                    profile: res.profile.name.clone(),
                    session_id: None,
                    kind: EventKind::AccountRisk,
                    detail: tr.to_string(),
                });
            }
            res.events.sort_by_key(|e| e.at);
        }
        let all: Vec<SessionRecord> = results
            .iter()
            .flat_map(|r| r.sessions.iter().cloned())
            .collect();
        Ok(PortfolioResult {
            account: analyze(&all, ACCOUNT_WINDOW, ACCOUNT_BUCKETS),
            runs: results,
            risk: self.risk.clone(),
            transitions,
        })
    }
}

/// What the governor sees at `t`: each engine's open session, and the closed sessions
/// remembered from the heartbeats (a closed session is its engine's `last_session`).
fn book_at(
    t: DateTime<Utc>,
    statuses: &[Status],
    closed: &mut BTreeMap<String, SessionView>,
    basis: PnlBasis,
    runs: &[Run],
) -> Book {
    for last in statuses.iter().filter_map(|st| st.last_session.as_ref()) {
        closed
            .entry(last.session_id.to_string())
            .or_insert_with(|| SessionView::of_record(last));
    }
    let today = crate::schedule::ist_date(t);
    closed.retain(|_, v| v.trading_day >= today - Duration::days(1));
    let sessions = statuses
        .iter()
        .filter_map(|st| SessionView::of_heartbeat(st, basis, t))
        .chain(closed.values().filter(|v| v.trading_day == today).cloned())
        .collect();
    let cash: Decimal = runs.iter().map(|r| r.venue.cash()).sum();
    Book {
        now: t,
        sessions,
        available_balance: Some(cash),
    }
}
