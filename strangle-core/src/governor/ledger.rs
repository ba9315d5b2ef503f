//! The governor on a shared ledger: its limits and state live in the ledger, so every runner
//! on one ledger (the engines of a `serve` process, several processes on one PostgreSQL
//! database) watches the same account under the same state, and an operator's reset reaches
//! them all.
//!
//! A runner calls [`tick`] every poll: it reads the record and the sessions from the ledger,
//! lays its own engines' fresher heartbeats over them, lets the governor observe, and writes
//! the state back only if nobody wrote it meanwhile (a version check). A transition is written
//! to the audit trail (profile [`ACCOUNT`], kind `account_risk`) with its figures.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{AccountRisk, Book, Governor, GovernorState, RiskState, SessionView, Transition};
use crate::audit::EventKind;
use crate::error::{Error, Result};
use crate::ledger::{AuditEvent, Ledger};
use crate::profile::PnlBasis;
use crate::strategy::Status;

/// The profile name of the governor's lines in the audit trail.
pub const ACCOUNT: &str = "account";

/// The account's limits and the governor's state as the ledger holds them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RiskRecord {
    /// The limits.
    pub limits: AccountRisk,
    /// The governor's state.
    pub state: GovernorState,
    /// Incremented by every write: a write based on an older version is refused.
    pub version: i64,
    /// When it was last written.
    pub updated_at: DateTime<Utc>,
}

/// Where the account's limits and the governor's state are kept.
#[async_trait]
pub trait RiskLedger: Send + Sync {
    /// The record; `None` until limits were first set.
    async fn account_risk(&self) -> Result<Option<RiskRecord>>;
    /// Writes `rec` as version `rec.version + 1` if the stored version is still `rec.version`
    /// (`0`: no record yet); `false` when another writer came first (nothing is written).
    async fn save_account_risk(&self, rec: &RiskRecord) -> Result<bool>;
    /// Every session of IST trading day `day` and every session not closed, with its net PnL
    /// on `basis` (an open one at its latest mark; the mark where close-now is unknown).
    async fn risk_sessions(&self, day: NaiveDate, basis: PnlBasis) -> Result<Vec<SessionView>>;
}

/// What one [`tick`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tick {
    /// The state engines must apply.
    pub state: RiskState,
    /// Why (the trigger, or `active`).
    pub why: String,
    /// The change this tick made, if any.
    pub transition: Option<Transition>,
    /// The day's PnL (from the last reset) and the open sessions' PnL.
    pub figures: (Decimal, Decimal),
}

impl Tick {
    /// No limits set: nothing to apply.
    fn unlimited() -> Self {
        Self {
            state: RiskState::Active,
            why: "no account limits set".into(),
            transition: None,
            figures: (Decimal::ZERO, Decimal::ZERO),
        }
    }
}

/// The book at `now`: the ledger's sessions with `local` heartbeats laid over them (an engine's
/// own figures are fresher than its last mark in the ledger).
pub async fn book<L: RiskLedger + ?Sized>(
    ledger: &L,
    now: DateTime<Utc>,
    basis: PnlBasis,
    local: &[Status],
    available_balance: Option<Decimal>,
) -> Result<Book> {
    let today = crate::schedule::ist_date(now);
    let mut sessions = ledger.risk_sessions(today, basis).await?;
    for v in local
        .iter()
        .filter_map(|st| SessionView::of_heartbeat(st, basis, now))
    {
        match sessions.iter_mut().find(|s| s.session_id == v.session_id) {
            Some(s) => *s = v,
            None => sessions.push(v),
        }
    }
    Ok(Book {
        now,
        sessions,
        available_balance,
    })
}

/// The governor as the ledger holds it, with the day's figures now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskStatus {
    /// The record.
    pub record: RiskRecord,
    /// The day's PnL counted from the last reset, USD.
    pub day_pnl: Decimal,
    /// The open sessions' PnL, USD.
    pub open_pnl: Decimal,
}

/// The record and today's figures (from the ledger's sessions and `local` heartbeats),
/// writing nothing; `None` when no limits are set.
pub async fn status<L: RiskLedger + ?Sized>(
    ledger: &L,
    now: DateTime<Utc>,
    local: &[Status],
) -> Result<Option<RiskStatus>> {
    let Some(rec) = ledger.account_risk().await? else {
        return Ok(None);
    };
    let b = book(ledger, now, rec.limits.basis, local, None).await?;
    let mut g = Governor::resume(rec.limits.clone(), rec.state.clone());
    g.observe(&b);
    let (day_pnl, open_pnl) = g.figures();
    Ok(Some(RiskStatus {
        record: rec,
        day_pnl,
        open_pnl,
    }))
}

/// The state an engine starting now applies before its first step: `None` while the governor
/// is active or no limits are set.
pub async fn starting_state<L: RiskLedger + ?Sized>(
    ledger: &L,
) -> Result<Option<(RiskState, String)>> {
    Ok(ledger
        .account_risk()
        .await?
        .map(|r| r.state)
        .filter(|st| st.state != RiskState::Active)
        .map(|st| {
            let why = st
                .trigger
                .map_or_else(|| st.state.to_string(), |t| t.to_string());
            (st.state, why)
        }))
}

/// What one engine was last told by the governor, so that it is told only changes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Told(Option<RiskState>);

impl Told {
    /// An engine started with `state` applied (see [`starting_state`]), or none.
    pub fn started_with(state: Option<RiskState>) -> Self {
        Self(state)
    }

    /// The command to send after `tick`, when the engine must hear something: a state other
    /// than the one it has (an engine told nothing runs `active`).
    pub fn command(&self, tick: &Tick) -> Option<crate::engine::EngineCommand> {
        let due = match self.0 {
            None => tick.state != RiskState::Active,
            Some(told) => told != tick.state,
        };
        due.then(|| crate::engine::EngineCommand::AccountRisk {
            state: tick.state,
            why: tick.why.clone(),
        })
    }

    /// Records that the engine was sent `state`.
    pub fn sent(&mut self, state: RiskState) {
        self.0 = Some(state);
    }
}

/// One round of the governor on `ledger` at `now` (see the module's text).
pub async fn tick<L: RiskLedger + Ledger + ?Sized>(
    ledger: &L,
    now: DateTime<Utc>,
    local: &[Status],
    available_balance: Option<Decimal>,
) -> Result<Tick> {
    let Some(rec) = ledger.account_risk().await? else {
        return Ok(Tick::unlimited());
    };
    let b = book(ledger, now, rec.limits.basis, local, available_balance).await?;
    let mut g = Governor::resume(rec.limits.clone(), rec.state.clone());
    let transition = g.observe(&b);
    if *g.state() != rec.state {
        let next = RiskRecord {
            state: g.state().clone(),
            updated_at: now,
            ..rec.clone()
        };
        if !ledger.save_account_risk(&next).await? {
            // Another runner wrote first (or an operator reset): its state stands; this
            // runner reads it on its next tick.
            return Ok(applied(&rec.state, g.figures(), None));
        }
        if let Some(t) = &transition {
            audit(ledger, t).await?;
        }
    }
    Ok(applied(g.state(), g.figures(), transition))
}

/// The operator's reset (`by`: who asked): the governor goes back to `active` and counts the
/// day again from where it stands. Errors with [`Error::NotFound`] when no limits are set and
/// [`Error::Conflict`] when another writer changed the record during the reset (try again).
pub async fn reset<L: RiskLedger + Ledger + ?Sized>(
    ledger: &L,
    now: DateTime<Utc>,
    local: &[Status],
    by: &str,
) -> Result<Transition> {
    let rec = ledger
        .account_risk()
        .await?
        .ok_or_else(|| Error::NotFound("account risk limits (none are set)".into()))?;
    let b = book(ledger, now, rec.limits.basis, local, None).await?;
    let mut g = Governor::resume(rec.limits.clone(), rec.state.clone());
    let t = g.reset(&b, by);
    let next = RiskRecord {
        state: g.state().clone(),
        updated_at: now,
        ..rec
    };
    if !ledger.save_account_risk(&next).await? {
        return Err(Error::Conflict(
            "the account risk state changed during the reset; try again".into(),
        ));
    }
    audit(ledger, &t).await?;
    Ok(t)
}

/// Sets the account's limits (validated), keeping the governor's state. Errors with
/// [`Error::InvalidProfile`] naming every bad field, and [`Error::Conflict`] as [`reset`].
pub async fn set_limits<L: RiskLedger + Ledger + ?Sized>(
    ledger: &L,
    now: DateTime<Utc>,
    limits: AccountRisk,
) -> Result<RiskRecord> {
    validate(&limits)?;
    let rec = ledger.account_risk().await?;
    let next = RiskRecord {
        limits,
        state: rec.as_ref().map(|r| r.state.clone()).unwrap_or_default(),
        version: rec.as_ref().map_or(0, |r| r.version),
        updated_at: now,
    };
    if !ledger.save_account_risk(&next).await? {
        return Err(Error::Conflict(
            "the account risk limits changed meanwhile; read them and try again".into(),
        ));
    }
    ledger
        .record_event(&AuditEvent {
            at: now,
            profile: ACCOUNT.into(),
            session_id: None,
            kind: EventKind::AccountRisk,
            detail: format!(
                "account risk limits set: {}",
                serde_json::to_string(&next.limits).unwrap_or_default()
            ),
        })
        .await?;
    Ok(RiskRecord {
        version: next.version + 1,
        ..next
    })
}

/// Every problem of `limits` as one [`Error::InvalidProfile`] (fields under `risk.`).
pub fn validate(limits: &AccountRisk) -> Result<()> {
    let problems = limits.problems();
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::InvalidProfile(crate::error::ValidationErrors(
        problems
            .into_iter()
            .map(|(field, message)| crate::error::FieldError {
                field: format!("risk.{field}"),
                message,
            })
            .collect(),
    )))
}

fn applied(
    state: &GovernorState,
    figures: (Decimal, Decimal),
    transition: Option<Transition>,
) -> Tick {
    Tick {
        state: state.state,
        why: state
            .trigger
            .as_ref()
            .map_or_else(|| state.state.to_string(), |t| t.to_string()),
        transition,
        figures,
    }
}

async fn audit<L: Ledger + ?Sized>(ledger: &L, t: &Transition) -> Result<()> {
    ledger
        .record_event(&AuditEvent {
            at: t.at,
            profile: ACCOUNT.into(),
            session_id: None,
            kind: EventKind::AccountRisk,
            detail: t.to_string(),
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{Mode, SessionRecord, SessionState};
    use crate::memory::MemoryLedger;
    use crate::pnl::SessionPnl;
    use chrono::{Duration, TimeZone};
    use rust_decimal_macros::dec;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 10, 6, 0, 0)
            .single()
            .expect("time")
    }

    fn session(profile: &str, state: SessionState, net: Decimal) -> SessionRecord {
        let day = crate::schedule::ist_date(now());
        SessionRecord {
            session_id: crate::ids::session_id(profile, day),
            profile: profile.into(),
            underlying: crate::model::Underlying::Btc,
            mode: Mode::Sim,
            trading_day: day,
            state,
            opened_at: now() - Duration::hours(2),
            closed_at: None,
            expiry: now() + Duration::days(1),
            planned_exit: now() + Duration::hours(4),
            entry_spot: None,
            legs: Vec::new(),
            exit_reason: None,
            pnl: SessionPnl {
                net,
                ..SessionPnl::default()
            },
            trailing_level: None,
            peak_pnl_pct: None,
            trough_pnl_pct: None,
            reentry_of: None,
            reentry: 0,
        }
    }

    fn cap(usd: Decimal) -> AccountRisk {
        AccountRisk {
            daily_loss_usd: Some(usd),
            ..AccountRisk::default()
        }
    }

    #[tokio::test]
    async fn without_limits_the_governor_lets_everything_trade() {
        let l = MemoryLedger::new();
        l.upsert_session(&session("a", SessionState::Closed, dec!(-1000)))
            .await
            .expect("session");
        let t = tick(&l, now(), &[], None).await.expect("tick");
        assert_eq!(t.state, RiskState::Active);
        assert!(t.transition.is_none());
        let Err(Error::NotFound(_)) = reset(&l, now(), &[], "test").await else {
            panic!("a reset without limits is refused");
        };
    }

    #[tokio::test]
    async fn sessions_of_every_profile_in_the_ledger_count_and_a_halt_is_recorded() {
        let l = MemoryLedger::new();
        set_limits(&l, now(), cap(dec!(100))).await.expect("limits");
        l.upsert_session(&session("a", SessionState::Closed, dec!(-60)))
            .await
            .expect("a");
        l.upsert_session(&session("b", SessionState::Open, dec!(-30)))
            .await
            .expect("b");
        let t = tick(&l, now(), &[], None).await.expect("tick");
        assert_eq!(
            (t.state, t.figures),
            (RiskState::Active, (dec!(-90), dec!(-30)))
        );
        // This runner's own engine says b is at −45 now: fresher than the ledger.
        let mut hb = crate::strategy::Strategy::new(crate::profile::Profile::named("b"), Mode::Sim)
            .status(now());
        hb.session_id = Some(crate::ids::session_id(
            "b",
            crate::schedule::ist_date(now()),
        ));
        hb.pnl = Some(SessionPnl {
            net: dec!(-45),
            ..SessionPnl::default()
        });
        hb.close_now_pnl = hb.pnl;
        let t = tick(&l, now(), &[hb], None).await.expect("tick");
        assert_eq!(t.state, RiskState::Halted);
        assert!(t.transition.is_some());
        let rec = l.account_risk().await.expect("read").expect("record");
        assert_eq!(rec.state.state, RiskState::Halted);
        assert_eq!(
            rec.version, 3,
            "the limits, the day's first count, the halt"
        );
        let events = l.contents().events;
        let last = events.last().expect("an event");
        assert_eq!(
            (last.profile.as_str(), &last.kind),
            (ACCOUNT, &EventKind::AccountRisk)
        );
        assert!(last.detail.contains("daily loss cap"), "{}", last.detail);
        // Another runner's tick finds the halt recorded and applies it, writing nothing.
        let t = tick(&l, now(), &[], None).await.expect("tick");
        assert_eq!((t.state, t.transition), (RiskState::Halted, None));
        // The operator resets: every runner sees active.
        let r = reset(&l, now(), &[], "cli").await.expect("reset");
        assert_eq!(r.to, RiskState::Active);
        let t = tick(&l, now(), &[], None).await.expect("tick");
        assert_eq!(t.state, RiskState::Active);
    }

    #[tokio::test]
    async fn a_write_based_on_an_old_version_is_refused() {
        let l = MemoryLedger::new();
        let rec = set_limits(&l, now(), cap(dec!(100))).await.expect("limits");
        assert!(
            l.save_account_risk(&rec).await.expect("save"),
            "current version"
        );
        assert!(
            !l.save_account_risk(&rec).await.expect("save"),
            "stale version"
        );
        let Err(Error::InvalidProfile(v)) = set_limits(&l, now(), cap(dec!(0))).await else {
            panic!("a bad cap is refused");
        };
        assert_eq!(v.0[0].field, "risk.daily_loss_usd");
    }
}
