//! A contract the venue takes no order on (issue 30 D): Delta's `trading_status` other than
//! `operational` (`disrupted_cancel_only`, `disrupted_post_only`). The local market sets it by
//! symbol prefix (`set_trading_status`), shows it in tickers and refuses orders there: no new
//! strangle is entered on such a contract, and an exit waits, says so, and goes out when
//! trading resumes.

mod common;

use std::sync::Arc;
use strangle_core::audit::EventKind;

use strangle_core::engine::{Engine, EngineCommand, EngineConfig};
use strangle_core::ledger::{Mode, OrderPurpose, SessionState};
use strangle_core::memory::MemoryLedger;
use strangle_core::model::Underlying;
use strangle_core::profile::Profile;
use strangle_core::Execution;
use strangle_delta::exchange::DeltaExchange;
use strangle_delta_market::demo_credentials;

fn cfg() -> EngineConfig {
    EngineConfig {
        mode: Mode::Sim,
        poll_interval: chrono::Duration::minutes(1),
        adopt: false,
        ioc_entries: false,
    }
}

fn profile() -> Profile {
    let mut p = Profile::named("halts");
    p.liquidity.max_quote_age_secs = 900;
    p
}

#[tokio::test]
async fn no_entry_on_a_contract_the_venue_takes_no_order_on() {
    let (server, clock) = common::flat_market().await;
    server
        .faults()
        .set_trading_status(Some(("C-BTC", "disrupted_cancel_only")));
    let ex = Arc::new(DeltaExchange::new(common::client_with(
        &server,
        Some(demo_credentials()),
    )));
    let ledger = Arc::new(MemoryLedger::new());
    let (mut engine, handle) = Engine::start(profile(), cfg(), ex, ledger.clone(), clock)
        .await
        .expect("engine");
    engine
        .run_until(Some(common::t0() + chrono::Duration::minutes(10)))
        .await
        .expect("run");
    let l = ledger.contents();
    assert!(l.sessions.is_empty(), "{:?}", l.events);
    assert!(server.venue().requests().is_empty());
    let why = handle.status().no_entry_reason.unwrap_or_default();
    assert!(why.contains("no call qualifies"), "{why}");
}

#[tokio::test]
async fn an_exit_waits_while_the_venue_takes_no_order_and_goes_out_when_it_does() {
    let (server, clock) = common::flat_market().await;
    let ex = Arc::new(DeltaExchange::new(common::client_with(
        &server,
        Some(demo_credentials()),
    )));
    let ledger = Arc::new(MemoryLedger::new());
    let (mut engine, handle) = Engine::start(profile(), cfg(), ex.clone(), ledger.clone(), clock)
        .await
        .expect("engine");
    engine
        .run_until(Some(common::t0() + chrono::Duration::minutes(5)))
        .await
        .expect("entry");
    assert_eq!(ledger.contents().sessions[0].state, SessionState::Open);

    // The puts stop trading (the next quotes say so); a stop buys the call back and the put
    // waits.
    server
        .faults()
        .set_trading_status(Some(("P-BTC", "disrupted_post_only")));
    engine
        .run_until(Some(common::t0() + chrono::Duration::minutes(7)))
        .await
        .expect("quotes");
    handle.send(EngineCommand::Stop);
    engine
        .run_until(Some(common::t0() + chrono::Duration::minutes(20)))
        .await
        .expect("exit waits");
    let l = ledger.contents();
    assert_eq!(l.sessions[0].state, SessionState::Exiting);
    let halts: Vec<_> = l
        .events
        .iter()
        .filter(|e| e.kind == EventKind::TradingHalt)
        .collect();
    assert_eq!(halts.len(), 1, "said once: {halts:?}");
    assert!(halts[0].detail.contains("disrupted_post_only"));
    assert!(handle
        .status()
        .last_error
        .is_some_and(|e| e.contains("disrupted_post_only")));
    let put_exits = |l: &strangle_core::memory::LedgerContents| {
        l.intents
            .iter()
            .filter(|i| {
                i.purpose == OrderPurpose::Exit && i.request.symbol.as_str().starts_with("P-")
            })
            .count()
    };
    assert_eq!(put_exits(&l), 0, "no order on a contract that takes none");
    let open: Vec<_> = ex.positions(Underlying::Btc).await.expect("positions");
    assert_eq!(open.len(), 1, "the put alone is still short: {open:?}");

    // Trading resumes: the put is bought back and the session closes.
    server.faults().set_trading_status(None);
    let st = engine
        .run_until(Some(common::t0() + chrono::Duration::minutes(40)))
        .await
        .expect("exit");
    let l = ledger.contents();
    assert_eq!(l.sessions[0].state, SessionState::Closed, "{:?}", l.events);
    assert!(put_exits(&l) >= 1);
    assert!(ex
        .positions(Underlying::Btc)
        .await
        .expect("positions")
        .is_empty());
    assert_eq!(st.phase, strangle_core::strategy::Phase::Stopped);
}

/// WebSocket tickers do not carry the trading status: a leg quoted from the stream takes it
/// from REST, read again once it is a minute old, so a halt is seen there too and no order
/// goes to the halted contract.
#[tokio::test]
async fn a_leg_quoted_from_the_stream_sees_the_halt_too() {
    let (server, clock) = common::flat_market().await;
    let ex = Arc::new(
        DeltaExchange::new(common::client_with(&server, Some(demo_credentials())))
            .with_stream(std::time::Duration::from_secs(900))
            .with_market_clock(clock.clone()),
    );
    let ledger = Arc::new(MemoryLedger::new());
    let (mut engine, handle) = Engine::start(profile(), cfg(), ex.clone(), ledger.clone(), clock)
        .await
        .expect("engine");
    engine
        .run_until(Some(common::t0() + chrono::Duration::minutes(5)))
        .await
        .expect("entry");
    assert_eq!(ledger.contents().sessions[0].state, SessionState::Open);
    // The legs were subscribed by the first quotes; their tickers arrive in real time.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    server
        .faults()
        .set_trading_status(Some(("P-BTC", "disrupted_post_only")));
    engine
        .run_until(Some(common::t0() + chrono::Duration::minutes(8)))
        .await
        .expect("quotes");
    assert_eq!(
        handle.status().quote_source,
        Some(strangle_core::exchange::QuoteSource::WebSocket),
        "the legs are quoted from the stream"
    );
    handle.send(EngineCommand::Stop);
    engine
        .run_until(Some(common::t0() + chrono::Duration::minutes(15)))
        .await
        .expect("exit waits");
    let l = ledger.contents();
    assert_eq!(l.sessions[0].state, SessionState::Exiting, "{:?}", l.events);
    assert!(l.events.iter().any(|e| e.kind == EventKind::TradingHalt));
    let put_exits = l
        .intents
        .iter()
        .filter(|i| i.purpose == OrderPurpose::Exit && i.request.symbol.as_str().starts_with("P-"))
        .count();
    assert_eq!(put_exits, 0, "no order on a contract that takes none");
}
