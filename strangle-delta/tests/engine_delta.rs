//! The core engine trading through the Delta adapter against the local server over HTTP.

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::Duration as Span;
use common::*;
use rust_decimal::Decimal;
use strangle_core::clock::ManualClock;
use strangle_core::engine::{Engine, EngineConfig};
use strangle_core::ledger::{Mode, SessionState};
use strangle_core::memory::MemoryLedger;
use strangle_core::model::{OrderState, Underlying};
use strangle_core::profile::Profile;
use strangle_core::sim::synthetic::SyntheticMarket;
use strangle_core::{Execution, MarketData};
use strangle_delta::exchange::{DeadmanConfig, DeltaExchange};
use strangle_delta_market::{demo_credentials, LocalServer, MarketSource, ServerConfig};

#[tokio::test]
async fn an_engine_enters_and_exits_a_strangle_through_the_adapter() {
    let start = t0() - Span::minutes(5);
    let clock = Arc::new(ManualClock::new(start));
    let market = SyntheticMarket::btc();
    // Spot drifts down 0.05 % every 10 minutes from 09:25 to 16:00 IST.
    let chains = market.path(
        start,
        start + Span::hours(7),
        Span::minutes(10),
        0.45,
        |t| {
            let steps = (t - start).num_minutes() / 10;
            Decimal::from(82_000) - Decimal::from(41 * steps)
        },
    );
    let server = LocalServer::start(ServerConfig {
        market: MarketSource::Replay(chains),
        clock: clock.clone(),
        ..ServerConfig::default()
    })
    .await
    .expect("server");
    let client = client_with(&server, Some(demo_credentials()));
    let exchange = Arc::new(DeltaExchange::new(client));
    let ledger = Arc::new(MemoryLedger::new());
    let mut profile = Profile::named("http");
    profile.contracts_per_leg = Decimal::from(5);
    profile.liquidity.max_quote_age_secs = 900;
    let config = EngineConfig {
        mode: Mode::Sim,
        poll_interval: Span::minutes(1),
        adopt: false,
        ioc_entries: false,
    };
    let (mut engine, _h) = Engine::start(
        profile,
        config,
        exchange.clone(),
        ledger.clone(),
        clock.clone(),
    )
    .await
    .expect("engine");
    engine
        .run_until(Some(start + Span::hours(7)))
        .await
        .expect("run");

    let l = ledger.contents();
    assert_eq!(l.sessions.len(), 1, "{:?}", l.events);
    let s = &l.sessions[0];
    assert_eq!(s.state, SessionState::Closed, "{:?}", l.events);
    assert!(s.exit_reason.is_some());
    // The ledger and the venue agree on every order and fill.
    let venue_fills = server.venue().fills();
    assert_eq!(l.fills.len(), venue_fills.len());
    for (_, f) in &l.fills {
        assert!(venue_fills.iter().any(|v| v.fill_id == f.fill_id
            && v.price == f.price
            && v.size == f.size
            && v.fee == f.fee));
    }
    for i in &l.intents {
        let n = server
            .venue()
            .requests()
            .iter()
            .filter(|r| r.client_order_id == i.request.client_order_id)
            .count();
        assert_eq!(n, 1, "{} reached the venue once", i.request.client_order_id);
    }
    assert!(
        exchange
            .positions(Underlying::Btc)
            .await
            .expect("positions")
            .is_empty(),
        "flat at the venue"
    );
    let cash = server.venue().cash();
    assert_eq!(
        cash,
        Decimal::from(10_000) + s.pnl.net,
        "venue cash = ledger PnL"
    );
}

#[tokio::test]
async fn the_dead_man_switch_is_armed_refreshed_and_fires_when_silent() {
    let s = setup().await;
    let exchange = DeltaExchange::new(s.client.clone()).with_deadman(DeadmanConfig {
        heartbeat_id: "strangle-test".into(),
        ttl: Duration::from_millis(1_000),
        underlyings: vec![Underlying::Btc],
        impact: "contracts".into(),
    });
    // The chain is read before the switch is armed: reading it can take longer than the
    // TTL on a loaded machine (a debug build, other tests running).
    let chain = exchange.chain(Underlying::Btc).await.expect("chain");
    let e = &chain.entries[0];
    let req = core_sell("dms-1", e, Decimal::from(1_000_000));
    exchange.keepalive().await.expect("armed");
    assert!(s.server.deadman_armed());
    assert_eq!(
        exchange.place_order(&req).await.expect("placed").state,
        OrderState::Open
    );
    // Kept alive past the TTL: nothing is cancelled.
    for _ in 0..12 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        exchange.keepalive().await.expect("refresh");
    }
    assert_eq!(s.server.deadman_fired(), 0);
    assert_eq!(
        exchange
            .order(&common::coid("dms-1"))
            .await
            .expect("q")
            .expect("known")
            .state,
        OrderState::Open
    );
    // Silent for longer than the TTL: the venue cancels the order.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(s.server.deadman_fired(), 1);
    assert_eq!(
        exchange
            .order(&common::coid("dms-1"))
            .await
            .expect("q")
            .expect("known")
            .state,
        OrderState::Cancelled
    );
}
