//! The account risk governor's round for a runner of engines (`serve`, `run`): one
//! [`governor::tick`] over the ledger with the engines' heartbeats, each engine told only a
//! change of state, a transition logged and notified.

use chrono::{DateTime, Utc};
use strangle_core::engine::EngineHandle;
use strangle_core::governor::{self, RiskLedger, Tick, Told, Transition};
use strangle_core::ledger::Ledger;
use strangle_core::notice::Notice;

use crate::notify::Notifier;

/// One round at `now` over `engines` (each with what it was last told).
pub async fn round<L: RiskLedger + Ledger + ?Sized>(
    ledger: &L,
    now: DateTime<Utc>,
    engines: &mut [(&EngineHandle, &mut Told)],
    notifier: Option<&Notifier>,
) -> strangle_core::Result<Tick> {
    let statuses: Vec<_> = engines.iter().map(|(h, _)| h.status()).collect();
    let t = governor::tick(ledger, now, &statuses, None).await?;
    for (handle, told) in engines.iter_mut() {
        if let Some(cmd) = told.command(&t) {
            if handle.send(cmd) {
                told.sent(t.state);
            }
        }
    }
    if let Some(tr) = &t.transition {
        announce(tr, notifier);
    }
    Ok(t)
}

/// Logs a change of the governor's state and sends it to `notifier` (from a task of its own:
/// a slow destination never holds up the round).
pub fn announce(tr: &Transition, notifier: Option<&Notifier>) {
    tracing::warn!(from = %tr.from, to = %tr.to, "{tr}");
    if let Some(n) = notifier.cloned() {
        let notice = Notice::AccountRisk {
            transition: tr.clone(),
        };
        tokio::spawn(async move {
            if let Err(e) = n.send(&notice).await {
                tracing::warn!(error = %e, "account risk notification failed");
            }
        });
    }
}
