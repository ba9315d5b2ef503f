//! A late start (`late_entry`): started after the day's entry window but before its exit
//! time, with no session that day, the strategy enters at once; otherwise it waits for the
//! next window. The status says which rule applies.

mod common;

use chrono::Duration;
use common::*;
use rust_decimal_macros::dec;
use strangle_core::audit::EventKind;
use strangle_core::ledger::SessionState;
use strangle_core::schedule::EntryRule;

/// Quotes every five minutes from `h:m` for two hours.
fn from(h: u32, m: u32) -> Vec<strangle_core::model::ChainSnapshot> {
    (0..24)
        .map(|i| {
            market(
                at(h, m) + Duration::minutes(5 * i),
                dec!(82000),
                px(dec!(500), dec!(510), dec!(505)),
                px(dec!(400), dec!(410), dec!(405)),
            )
        })
        .collect()
}

fn late(on: bool) -> strangle_core::profile::Profile {
    let mut p = profile();
    p.late_entry = on;
    p
}

#[tokio::test]
async fn a_late_start_enters_at_once_when_asked() {
    // 05:00 UTC is 10:30 IST: the 09:30–10:00 window has passed, the 15:20 exit has not.
    let mut r = rig(late(true), from(5, 0), 30).await;
    let s = r.engine.status();
    assert_eq!(s.next_entry, Some(at(5, 0)));
    assert_eq!(s.next_entry_rule, Some(EntryRule::LateStart));
    r.engine.run_until(Some(at(5, 10))).await.expect("run");
    let l = r.ledger.contents();
    assert_eq!(l.sessions.len(), 1, "{:?}", l.events);
    let s = &l.sessions[0];
    assert_eq!(s.state, SessionState::Open);
    assert_eq!(s.opened_at, at(5, 0));
    assert_eq!(s.planned_exit, at(9, 50), "the same day's 15:20 IST exit");
    assert!(
        l.events.iter().any(|e| e.kind == EventKind::LateEntry),
        "{:?}",
        l.events
    );
}

#[tokio::test]
async fn without_late_entry_a_late_start_waits_for_the_next_window() {
    let mut r = rig(late(false), from(5, 0), 30).await;
    let s = r.engine.status();
    assert_eq!(s.next_entry, Some(at(4, 0) + Duration::days(1)));
    assert_eq!(s.next_entry_rule, Some(EntryRule::Window));
    r.engine.run_until(Some(at(6, 55))).await.expect("run");
    assert!(r.ledger.contents().sessions.is_empty());
}

#[tokio::test]
async fn a_start_after_the_exit_time_does_not_enter_late() {
    // 10:00 UTC is 15:30 IST, after the 15:20 exit.
    let mut r = rig(late(true), from(10, 0), 30).await;
    assert_eq!(r.engine.status().next_entry_rule, Some(EntryRule::Window));
    r.engine.run_until(Some(at(11, 55))).await.expect("run");
    assert!(r.ledger.contents().sessions.is_empty());
}

#[tokio::test]
async fn a_day_already_traded_is_not_entered_again_late() {
    // A session of today (entered in the window, closed) is in the ledger; a restart at
    // 10:30 IST with late entry on must not open a second one.
    let mut r = rig(late(true), from(4, 0), 30).await;
    r.engine.run_until(Some(at(4, 5))).await.expect("entry");
    r.handle.send(strangle_core::engine::EngineCommand::Stop);
    r.engine.run_until(Some(at(4, 30))).await.expect("stop");
    let l = r.ledger.contents();
    assert_eq!(l.sessions.len(), 1);
    assert_eq!(l.sessions[0].state, SessionState::Closed, "{:?}", l.events);
    let mut again = rig_on(late(true), from(5, 0), 30, r.ledger.clone()).await;
    assert_eq!(
        again.engine.status().next_entry_rule,
        Some(EntryRule::Window)
    );
    again.engine.run_until(Some(at(6, 0))).await.expect("run");
    assert_eq!(again.ledger.contents().sessions.len(), 1);
}
