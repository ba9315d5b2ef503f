//! An in-memory [`Ledger`]: for tests, backtests and sim runs that need no file.

use std::sync::Mutex;

use async_trait::async_trait;

use crate::error::Result;
use crate::ids::SessionId;
use crate::ledger::{AuditEvent, Ledger, OrderIntent, PnlMark, SessionRecord};
use crate::model::{Fill, OrderStatus};
use crate::profile::Profile;

/// Everything a [`MemoryLedger`] holds, in the order it was written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LedgerContents {
    /// Profiles by name (latest version).
    pub profiles: Vec<Profile>,
    /// Sessions in creation order (latest version of each).
    pub sessions: Vec<SessionRecord>,
    /// Order intents in the order they were recorded.
    pub intents: Vec<OrderIntent>,
    /// Order updates: (session id, status).
    pub order_updates: Vec<(SessionId, OrderStatus)>,
    /// Fills: (session id, fill), each fill id once.
    pub fills: Vec<(SessionId, Fill)>,
    /// PnL marks.
    pub marks: Vec<PnlMark>,
    /// The audit trail.
    pub events: Vec<AuditEvent>,
    /// The account's limits and the governor's state.
    pub account_risk: Option<crate::governor::RiskRecord>,
}

/// A ledger kept in memory. Cheap to clone the contents out for assertions.
#[derive(Debug)]
pub struct MemoryLedger {
    inner: Mutex<LedgerContents>,
    keep_marks: bool,
}

impl Default for MemoryLedger {
    fn default() -> Self {
        Self {
            inner: Mutex::default(),
            keep_marks: true,
        }
    }
}

impl MemoryLedger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty ledger that drops PnL marks (long backtests do not need one per step).
    pub fn without_marks() -> Self {
        Self {
            keep_marks: false,
            ..Self::default()
        }
    }

    /// Sessions recorded so far.
    pub fn session_count(&self) -> usize {
        self.lock().sessions.len()
    }

    /// A copy of everything recorded so far.
    pub fn contents(&self) -> LedgerContents {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LedgerContents> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl Ledger for MemoryLedger {
    async fn save_profile(&self, profile: &Profile) -> Result<()> {
        let mut g = self.lock();
        match g.profiles.iter_mut().find(|p| p.name == profile.name) {
            Some(p) => *p = profile.clone(),
            None => g.profiles.push(profile.clone()),
        }
        Ok(())
    }

    async fn upsert_session(&self, session: &SessionRecord) -> Result<()> {
        let mut g = self.lock();
        match g
            .sessions
            .iter_mut()
            .find(|s| s.session_id == session.session_id)
        {
            Some(s) => *s = session.clone(),
            None => g.sessions.push(session.clone()),
        }
        Ok(())
    }

    async fn record_order_intent(&self, intent: &OrderIntent) -> Result<()> {
        self.lock().intents.push(intent.clone());
        Ok(())
    }

    async fn record_order_update(
        &self,
        session_id: &SessionId,
        status: &OrderStatus,
    ) -> Result<()> {
        self.lock()
            .order_updates
            .push((session_id.clone(), status.clone()));
        Ok(())
    }

    async fn record_fill(&self, session_id: &SessionId, fill: &Fill) -> Result<()> {
        let mut g = self.lock();
        if !g.fills.iter().any(|(_, f)| f.fill_id == fill.fill_id) {
            g.fills.push((session_id.clone(), fill.clone()));
        }
        Ok(())
    }

    async fn record_mark(&self, mark: &PnlMark) -> Result<()> {
        if self.keep_marks {
            self.lock().marks.push(mark.clone());
        }
        Ok(())
    }

    async fn record_event(&self, event: &AuditEvent) -> Result<()> {
        self.lock().events.push(event.clone());
        Ok(())
    }

    async fn latest_session(&self, profile: &str) -> Result<Option<SessionRecord>> {
        Ok(self
            .lock()
            .sessions
            .iter()
            .rev()
            .find(|s| s.profile == profile)
            .cloned())
    }

    async fn active_sessions(&self, profile: &str) -> Result<Vec<SessionRecord>> {
        Ok(self
            .lock()
            .sessions
            .iter()
            .filter(|s| s.profile == profile && s.state.is_active())
            .cloned()
            .collect())
    }

    async fn session_fills(&self, session_id: &SessionId) -> Result<Vec<Fill>> {
        Ok(self
            .lock()
            .fills
            .iter()
            .filter(|(s, _)| s == session_id)
            .map(|(_, f)| f.clone())
            .collect())
    }
}

#[async_trait]
impl crate::governor::RiskLedger for MemoryLedger {
    async fn account_risk(&self) -> Result<Option<crate::governor::RiskRecord>> {
        Ok(self.lock().account_risk.clone())
    }

    async fn save_account_risk(&self, rec: &crate::governor::RiskRecord) -> Result<bool> {
        let mut g = self.lock();
        let stored = g.account_risk.as_ref().map_or(0, |r| r.version);
        if stored != rec.version {
            return Ok(false);
        }
        g.account_risk = Some(crate::governor::RiskRecord {
            version: rec.version + 1,
            ..rec.clone()
        });
        Ok(true)
    }

    async fn risk_sessions(
        &self,
        day: chrono::NaiveDate,
        basis: crate::profile::PnlBasis,
    ) -> Result<Vec<crate::governor::SessionView>> {
        let g = self.lock();
        let views = g
            .sessions
            .iter()
            .filter(|s| s.state.is_active() || s.trading_day == day)
            .map(|s| {
                let mut v = crate::governor::SessionView::of_record(s);
                let mark = g.marks.iter().rev().find(|m| m.session_id == s.session_id);
                if let (true, Some(m)) = (v.open, mark) {
                    v.net = crate::governor::net_on(basis, m.pnl.net, m.close_now_net);
                }
                v
            })
            .collect();
        Ok(views)
    }
}
