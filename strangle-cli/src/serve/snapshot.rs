//! An engine's latest state, serialised once each time the engine publishes a new one.
//!
//! The heartbeat and runtime routes are polled far more often than an engine steps (a
//! dashboard per operator, monitoring, scripts), and writing a state with its legs, PnL and
//! timestamps as JSON was most of a runtime answer's cost. A [`Latest`] keeps the engine's
//! status receiver; a request takes the current [`Snapshot`] (one lock, one version check)
//! and its JSON is written into the answer as it is.

use std::fmt;
use std::sync::{Arc, Mutex};

use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use strangle_core::strategy::Status;
use tokio::sync::watch;

/// One published state and its JSON.
#[derive(Debug)]
pub struct Snapshot {
    /// The state.
    pub status: Status,
    /// `status` as JSON (`None` only if serialising failed, then it is written again).
    json: Option<Box<RawValue>>,
}

impl Snapshot {
    /// The snapshot of `status`.
    pub fn of(status: Status) -> Self {
        let json = match serde_json::value::to_raw_value(&status) {
            Ok(j) => Some(j),
            Err(e) => {
                tracing::warn!(error = %e, "an engine state did not serialise");
                None
            }
        };
        Self { status, json }
    }
}

/// A snapshot's state as an answer carries it: written from the stored JSON.
#[derive(Clone)]
pub struct StateJson(pub Arc<Snapshot>);

impl Serialize for StateJson {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0.json {
            Some(j) => j.serialize(s),
            None => self.0.status.serialize(s),
        }
    }
}

impl fmt::Debug for StateJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.status.fmt(f)
    }
}

/// The latest snapshot of one engine, made again only when the engine has published since.
#[derive(Debug)]
pub struct Latest {
    inner: Mutex<(watch::Receiver<Status>, Arc<Snapshot>)>,
}

impl Latest {
    /// Follows the engine whose states `rx` receives.
    pub fn new(mut rx: watch::Receiver<Status>) -> Self {
        let first = Snapshot::of(rx.borrow_and_update().clone());
        Self {
            inner: Mutex::new((rx, Arc::new(first))),
        }
    }

    /// The engine's latest state. After the engine ended, the last one it published.
    pub fn get(&self) -> Arc<Snapshot> {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        // Asked of the borrowed value rather than the channel, which answers an error once
        // the engine has ended, even when its last state has not been read yet.
        let changed = {
            let r = g.0.borrow_and_update();
            r.has_changed().then(|| r.clone())
        };
        if let Some(status) = changed {
            g.1 = Arc::new(Snapshot::of(status));
        }
        g.1.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use strangle_core::ledger::Mode;
    use strangle_core::strategy::Phase;

    fn status(profile: &str) -> Status {
        let at = Utc
            .with_ymd_and_hms(2026, 3, 10, 4, 0, 0)
            .single()
            .expect("a valid time");
        Status {
            profile: profile.into(),
            mode: Mode::Sim,
            phase: Phase::Waiting,
            at,
            next_entry: None,
            next_entry_rule: None,
            session_id: None,
            planned_exit: None,
            expiry: None,
            legs: vec![],
            pnl: None,
            pnl_pct: None,
            close_now_pnl: None,
            close_now_pnl_pct: None,
            trailing_level: None,
            max_profit_pct: None,
            max_drawdown_pct: None,
            spot: None,
            entry_spot: None,
            spot_low: None,
            spot_high: None,
            opened_at: None,
            exit_reason: None,
            no_entry_reason: None,
            stale_quotes: None,
            quote_source: None,
            rate_budget_left: None,
            entry_hold: None,
            last_error: None,
            last_session: None,
            reconciliation: None,
        }
    }

    fn json(s: &Arc<Snapshot>) -> String {
        serde_json::to_string(&StateJson(s.clone())).expect("serialises")
    }

    #[test]
    fn a_new_state_is_seen_and_an_unchanged_one_is_not_written_again() {
        let (tx, rx) = watch::channel(status("a"));
        let latest = Latest::new(rx);
        let first = latest.get();
        assert!(
            Arc::ptr_eq(&first, &latest.get()),
            "no change, same snapshot"
        );
        assert_eq!(
            json(&first),
            serde_json::to_string(&status("a")).expect("serialises")
        );
        tx.send(status("b")).expect("a receiver");
        let second = latest.get();
        assert_eq!(second.status.profile, "b");
        assert_eq!(
            json(&second),
            serde_json::to_string(&status("b")).expect("serialises")
        );
        // The engine's last state, sent just before it ends, is read after the end.
        tx.send(status("c")).expect("a receiver");
        drop(tx);
        assert_eq!(latest.get().status.profile, "c");
        assert_eq!(latest.get().status.profile, "c", "and stays");
    }
}
