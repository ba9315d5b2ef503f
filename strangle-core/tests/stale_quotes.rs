//! An exit is never priced on a quote older than the profile's `max_quote_age_secs`: the
//! engine waits for a fresh one and its heartbeat says so (issue 15 D).

mod common;

use common::*;
use rust_decimal_macros::dec;
use strangle_core::audit::EventKind;
use strangle_core::engine::EngineCommand;
use strangle_core::ledger::{OrderPurpose, SessionState};

#[tokio::test]
async fn an_exit_waits_for_a_fresh_quote_and_the_heartbeat_says_why() {
    // Quotes every hour, at most 120 s old to be used: from 04:02 to 05:00 none is fresh.
    let mut r = rig(profile(), trailing_day(), 30).await;
    r.engine.run_until(Some(at(4, 1))).await.expect("entry");
    assert_eq!(r.ledger.contents().sessions[0].state, SessionState::Open);

    // Stopped at 04:10 with only the 04:00 quotes: nothing is bought back on them.
    r.engine.run_until(Some(at(4, 10))).await.expect("run");
    assert!(r.engine.status().stale_quotes.is_some());
    r.handle.send(EngineCommand::Stop);
    r.engine.run_until(Some(at(4, 59))).await.expect("waits");
    let exits = |r: &Rig| {
        r.ledger
            .contents()
            .intents
            .into_iter()
            .filter(|i| i.purpose == OrderPurpose::Exit)
            .collect::<Vec<_>>()
    };
    assert!(
        exits(&r).is_empty(),
        "no exit priced on a 59-minute-old quote"
    );
    let status = r.engine.status();
    let why = status.stale_quotes.expect("the heartbeat says why");
    assert!(why.contains(CALL) && why.contains(PUT), "{why}");
    assert!(why.contains("at most 120 s old"), "{why}");
    // The audit trail says when each leg's wait began, once.
    let waits: Vec<_> = r
        .ledger
        .contents()
        .events
        .into_iter()
        .filter(|e| e.kind == EventKind::QuoteWait)
        .collect();
    assert_eq!(waits.len(), 2, "{waits:?}");
    assert!(waits.iter().all(|e| e.at == at(4, 10)), "{waits:?}");

    // The 05:00 quotes are fresh: both legs are bought back at their asks.
    r.engine.run_until(Some(at(5, 30))).await.expect("exit");
    let l = r.ledger.contents();
    assert_eq!(l.sessions[0].state, SessionState::Closed, "{:?}", l.events);
    let exits = exits(&r);
    assert_eq!(exits.len(), 2, "{exits:?}");
    for i in &exits {
        assert!(i.created_at >= at(5, 0));
        let ask = if i.request.symbol == CALL {
            dec!(305)
        } else {
            dec!(255)
        };
        assert_eq!(i.request.limit_price, Some(ask), "{}", i.request.symbol);
    }
    assert!(r.engine.status().stale_quotes.is_none());
}
