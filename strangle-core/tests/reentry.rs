//! Re-entry after a stop on the simulated venue: a session stopped by max loss is followed the
//! same day, after the cooldown, by a session of its own linked to the first; the count per
//! day, the same-strikes mode and a restart in between are respected.

mod common;

use std::sync::Arc;

use common::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use strangle_core::audit::EventKind;
use strangle_core::ledger::SessionRecord;
use strangle_core::memory::MemoryLedger;
use strangle_core::model::ChainSnapshot;
use strangle_core::profile::{Profile, Reentry, ReentryMode};
use strangle_core::risk::ExitReason;

fn quotes(t: chrono::DateTime<chrono::Utc>, call: Decimal, put: Decimal) -> ChainSnapshot {
    let around = |m: Decimal| px(m - dec!(5), m + dec!(5), m);
    market(t, dec!(82000), around(call), around(put))
}

/// 09:30 IST entry at 505/405; at 05:00 UTC the call jumps to 1,500 (the strangle has lost
/// more than its premium: max loss); quiet from 06:00 on, at the prices `then` gives.
fn stop_day(then: impl Fn(chrono::DateTime<chrono::Utc>) -> ChainSnapshot) -> Vec<ChainSnapshot> {
    let mut v = vec![
        quotes(at(3, 55), dec!(505), dec!(405)),
        quotes(at(4, 0), dec!(505), dec!(405)),
        quotes(at(5, 0), dec!(1500), dec!(300)),
    ];
    for h in 6..=10 {
        v.push(then(at(h, 0)));
    }
    v
}

fn calm(t: chrono::DateTime<chrono::Utc>) -> ChainSnapshot {
    quotes(t, dec!(505), dec!(405))
}

fn with_reentry(max: u32, cooldown: u32, mode: ReentryMode) -> Profile {
    let mut p = profile();
    p.venue_stop.enabled = false;
    p.reentry = Reentry::default();
    p.reentry.max_per_day = max;
    p.reentry.cooldown_minutes = cooldown;
    p.reentry.mode = mode;
    p
}

fn sessions(l: &MemoryLedger) -> Vec<SessionRecord> {
    l.contents().sessions
}

#[tokio::test]
async fn a_stopped_session_is_followed_by_a_linked_reentry_after_the_cooldown() {
    let mut r = rig(with_reentry(2, 30, ReentryMode::Fresh), stop_day(calm), 60).await;
    r.engine.run_until(Some(at(10, 30))).await.expect("run");
    let s = sessions(&r.ledger);
    assert_eq!(s.len(), 2, "the first session and one re-entry");
    assert_eq!(s[0].exit_reason, Some(ExitReason::MaxLoss));
    assert_eq!(s[1].reentry_of.as_ref(), Some(&s[0].session_id));
    assert_eq!(s[1].reentry, 1);
    assert_eq!(
        s[1].session_id.as_str(),
        format!("{}r1", s[0].session_id.as_str())
    );
    assert_eq!(s[1].trading_day, s[0].trading_day);
    // Not before the cooldown: the 05:00 stop, 30 minutes, the next fresh chain at 06:00.
    assert_eq!(s[1].opened_at, at(6, 0));
    assert_eq!(s[1].exit_reason, Some(ExitReason::ExitTime));
    let events = r.ledger.contents().events;
    let re: Vec<_> = events
        .iter()
        .filter(|e| e.kind == EventKind::Reentry)
        .map(|e| e.detail.clone())
        .collect();
    assert_eq!(re.len(), 2, "{re:?}");
    assert!(re[0].contains("allowed after max_loss"), "{re:?}");
    assert!(re[1].contains("re-entry 1 of 2"), "{re:?}");
    let net: Decimal = s.iter().map(|x| x.pnl.net).sum();
    assert_eq!(net, r.venue.cash() - dec!(10000), "both sessions' money");
}

#[tokio::test]
async fn without_reentries_or_after_a_profit_exit_the_day_is_done() {
    let mut r = rig(with_reentry(0, 0, ReentryMode::Fresh), stop_day(calm), 60).await;
    r.engine.run_until(Some(at(10, 30))).await.expect("run");
    assert_eq!(sessions(&r.ledger).len(), 1);
    // The trailing day closes at a profit: no re-entry whatever the rule allows.
    let mut r = rig(with_reentry(3, 0, ReentryMode::Fresh), trailing_day(), 60).await;
    r.engine.run_until(Some(at(8, 30))).await.expect("run");
    let s = sessions(&r.ledger);
    assert_eq!(
        s.len(),
        1,
        "{:?}",
        s.iter().map(|x| x.exit_reason).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn the_count_per_day_is_kept() {
    // At 07:00 the call jumps again: the re-entry stops too, and only one is allowed.
    let jumpy = |t: chrono::DateTime<chrono::Utc>| {
        if t == at(7, 0) {
            quotes(t, dec!(1500), dec!(300))
        } else {
            calm(t)
        }
    };
    let mut r = rig(with_reentry(1, 30, ReentryMode::Fresh), stop_day(jumpy), 60).await;
    r.engine.run_until(Some(at(10, 30))).await.expect("run");
    let s = sessions(&r.ledger);
    assert_eq!(s.len(), 2);
    assert_eq!(s[1].exit_reason, Some(ExitReason::MaxLoss), "stopped again");
    let reasons: Vec<_> = s.iter().map(|x| x.reentry).collect();
    assert_eq!(reasons, [0, 1]);
}

#[tokio::test]
async fn same_strikes_waits_for_them_to_be_tradeable() {
    // At 06:00 the stopped call has no bid: no re-entry then; at 07:00 it trades again.
    let thin = |t: chrono::DateTime<chrono::Utc>| {
        let mut c = calm(t);
        if t == at(6, 0) {
            if let Some(e) = c.entries.iter_mut().find(|e| e.contract.symbol == CALL) {
                e.quote.bid = None;
            }
        }
        c
    };
    let mut r = rig(
        with_reentry(1, 30, ReentryMode::SameStrikes),
        stop_day(thin),
        60,
    )
    .await;
    r.engine.run_until(Some(at(10, 30))).await.expect("run");
    let s = sessions(&r.ledger);
    assert_eq!(s.len(), 2);
    assert_eq!(s[1].opened_at, at(7, 0));
    assert_eq!(s[1].legs[0].symbol.as_str(), CALL);
    assert_eq!(s[1].legs[1].symbol.as_str(), PUT);
    let events = r.ledger.contents().events;
    assert!(
        events
            .iter()
            .any(|e| e.kind == EventKind::NoEntry && e.detail.contains("same strikes")),
        "the wait is explained"
    );
}

#[tokio::test]
async fn a_restart_between_the_stop_and_the_reentry_keeps_it() {
    let ledger = Arc::new(MemoryLedger::new());
    let p = with_reentry(1, 30, ReentryMode::Fresh);
    let mut first = rig_on(p.clone(), stop_day(calm), 60, ledger.clone()).await;
    first.engine.run_until(Some(at(5, 10))).await.expect("run");
    assert_eq!(sessions(&ledger).len(), 1);
    drop(first);
    // A new process (and its own simulated venue, flat) on the same ledger, from 05:10.
    let later: Vec<_> = stop_day(calm)
        .into_iter()
        .filter(|c| c.timestamp >= at(5, 0))
        .collect();
    let mut second = rig_on(p, later, 60, ledger.clone()).await;
    second
        .engine
        .run_until(Some(at(10, 30)))
        .await
        .expect("run");
    let s = sessions(&ledger);
    assert_eq!(s.len(), 2);
    assert_eq!(s[1].reentry, 1);
    assert_eq!(s[1].opened_at, at(6, 0));
}

#[test]
fn bad_reentry_settings_are_named() {
    let mut p = Profile::named("r");
    p.reentry.max_per_day = 21;
    p.reentry.cooldown_minutes = 2000;
    let Err(strangle_core::Error::InvalidProfile(v)) = p.validate() else {
        panic!("refused");
    };
    let fields: Vec<_> = v.0.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["reentry.max_per_day", "reentry.cooldown_minutes"]);
    let mut p = Profile::named("r");
    p.reentry.mode = ReentryMode::SameStrikes;
    assert!(p.validate().is_err(), "a mode without a count does nothing");
    assert!(serde_json::to_value(Profile::named("plain"))
        .expect("json")
        .get("reentry")
        .is_none());
}
