//! The dead-man switch against the local market: it cancels only the orders in its scope, it
//! is shared by the engines of a process that trade the same scope and disarmed by the last
//! one to stop flat, and an id that already exists (a restart after a crash) does not fail
//! the start, whichever way the market answers its creation.

mod common;

use std::time::Duration;
use strangle_core::audit::EventKind;

use rust_decimal::Decimal;
use strangle_core::model::{OrderState, Underlying};
use strangle_core::{Execution, MarketData};
use strangle_delta::exchange::{DeadmanConfig, DeltaExchange};
use strangle_delta_market::{ExistingHeartbeat, FaultKind, FaultRule};

fn config(id: &str, ttl_ms: u64, u: Underlying) -> DeadmanConfig {
    DeadmanConfig {
        heartbeat_id: id.into(),
        ttl: Duration::from_millis(ttl_ms),
        underlyings: vec![u],
        impact: "contracts".into(),
    }
}

/// A resting sell far above the market on the first BTC contract.
async fn resting_order(ex: &DeltaExchange, id: &str) -> String {
    let chain = ex.chain(Underlying::Btc).await.expect("chain");
    let e = &chain.entries[0];
    let req = common::core_sell(id, e, Decimal::from(1_000_000));
    assert_eq!(
        ex.place_order(&req).await.expect("placed").state,
        OrderState::Open
    );
    id.to_string()
}

async fn state(ex: &DeltaExchange, id: &str) -> OrderState {
    ex.order(&common::coid(id))
        .await
        .expect("query")
        .expect("known")
        .state
}

#[tokio::test]
async fn a_heartbeat_cancels_only_the_orders_in_its_scope() {
    let s = common::setup().await;
    let plain = DeltaExchange::new(s.client.clone());
    let btc_order = resting_order(&plain, "scope-1").await;
    // An ETH-options heartbeat goes silent: the BTC order is not its business.
    let eth = DeltaExchange::new(s.client.clone()).with_deadman(config(
        "t-eth-options",
        300,
        Underlying::Eth,
    ));
    eth.keepalive().await.expect("armed");
    let views = s.server.heartbeats();
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].underlyings, vec!["ETH".to_string()]);
    assert_eq!(
        views[0].contract_types,
        vec!["call_options".to_string(), "put_options".to_string()]
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(s.server.deadman_fired(), 1, "the ETH heartbeat fired");
    assert_eq!(state(&plain, &btc_order).await, OrderState::Open);
    // A BTC-options heartbeat going silent cancels it.
    let btc = DeltaExchange::new(s.client.clone()).with_deadman(config(
        "t-btc-options",
        300,
        Underlying::Btc,
    ));
    btc.keepalive().await.expect("armed");
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(s.server.deadman_fired(), 2);
    assert_eq!(state(&plain, &btc_order).await, OrderState::Cancelled);
}

#[tokio::test]
async fn engines_on_one_scope_share_the_heartbeat_and_the_last_one_flat_disarms_it() {
    let s = common::setup().await;
    let cfg = config("t-shared", 400, Underlying::Btc);
    let a = DeltaExchange::new(s.client.clone()).with_deadman(cfg.clone());
    let b = DeltaExchange::new(s.client.clone()).with_deadman(cfg);
    a.keepalive().await.expect("armed");
    b.keepalive().await.expect("refreshed");
    assert_eq!(s.server.heartbeats().len(), 1, "one heartbeat for both");
    // The first stops flat: the other still runs, the switch stays armed.
    a.release_deadman(true).await.expect("released");
    assert!(s.server.deadman_armed());
    // The second stops flat: disarmed, and nothing fires afterwards.
    b.release_deadman(true).await.expect("released");
    assert!(!s.server.deadman_armed());
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(s.server.deadman_fired(), 0);
}

#[tokio::test]
async fn an_engine_that_stops_with_open_legs_leaves_the_switch_to_fire() {
    let s = common::setup().await;
    // Time to place the order (a chain read and an order, in a debug build on a busy
    // machine) before the switch fires.
    let ex = DeltaExchange::new(s.client.clone()).with_deadman(config(
        "t-not-flat",
        1500,
        Underlying::Btc,
    ));
    ex.keepalive().await.expect("armed");
    let order = resting_order(&ex, "left-1").await;
    ex.release_deadman(false).await.expect("released");
    assert!(s.server.deadman_armed(), "not disarmed");
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert_eq!(s.server.deadman_fired(), 1);
    assert_eq!(state(&ex, &order).await, OrderState::Cancelled);
}

#[tokio::test]
async fn an_existing_heartbeat_id_is_reused_whichever_way_creation_answers() {
    for answer in [ExistingHeartbeat::Replace, ExistingHeartbeat::Refuse] {
        let s = common::setup().await;
        s.server.faults().set_existing_heartbeat(answer);
        // Left by an earlier process (a crash): the id exists, with a wider scope.
        s.client
            .create_heartbeat("t-existing", &["BTC", "ETH"])
            .await
            .expect("created by the earlier process");
        let ex = DeltaExchange::new(s.client.clone()).with_deadman(config(
            "t-existing",
            5_000,
            Underlying::Btc,
        ));
        ex.keepalive()
            .await
            .unwrap_or_else(|e| panic!("{answer:?}: the start failed: {e}"));
        assert!(s.server.deadman_armed(), "{answer:?}");
        let views = s.server.heartbeats();
        assert_eq!(views.len(), 1, "{answer:?}");
        let scope = match answer {
            ExistingHeartbeat::Replace => vec!["BTC".to_string()],
            ExistingHeartbeat::Refuse => vec!["BTC".to_string(), "ETH".to_string()],
        };
        assert_eq!(views[0].underlyings, scope, "{answer:?}");
        ex.release_deadman(true).await.expect("released");
    }
}

#[tokio::test]
async fn a_failed_creation_of_an_id_that_does_not_exist_fails_the_start() {
    let s = common::setup().await;
    s.server.faults().add(FaultRule::new(
        Some("POST"),
        Some("/v2/heartbeat/create"),
        FaultKind::ServerError(500),
        10,
    ));
    let ex = DeltaExchange::new(s.client.clone()).with_deadman(config(
        "t-missing",
        5_000,
        Underlying::Btc,
    ));
    let err = ex.keepalive().await.expect_err("no heartbeat, no start");
    assert!(err.to_string().contains("500"), "{err}");
    assert!(!s.server.deadman_armed());
}

/// Issue 30 C: an acknowledgement that does not prove the switch armed holds new entries at
/// once (said in the heartbeat and the trail), and a refresh that proves it armed lifts the
/// hold; a heartbeat Delta forgot is created again.
#[tokio::test]
async fn an_unarmed_switch_holds_entries_until_a_refresh_proves_it_armed() {
    use std::sync::Arc;
    use strangle_core::engine::{Engine, EngineConfig};
    use strangle_core::ledger::Mode;
    use strangle_core::memory::MemoryLedger;
    use strangle_core::profile::Profile;
    use strangle_delta_market::HeartbeatAck;

    let (server, clock) = common::flat_market().await;
    server.faults().set_heartbeat_list_needs_user(true);
    server.faults().set_heartbeat_ack(HeartbeatAck::Disabled);
    let client = common::client_with(&server, Some(strangle_delta_market::demo_credentials()));
    let ex = Arc::new(DeltaExchange::new(client.clone()).with_deadman(config(
        "strangle-hold",
        6_000,
        Underlying::Btc,
    )));
    let ledger = Arc::new(MemoryLedger::new());
    let mut profile = Profile::named("hold");
    profile.liquidity.max_quote_age_secs = 900;
    let cfg = EngineConfig {
        mode: Mode::Live,
        poll_interval: chrono::Duration::minutes(1),
        adopt: false,
        ioc_entries: false,
    };
    let (mut engine, handle) =
        Engine::start(profile, cfg, ex.clone(), ledger.clone(), clock.clone())
            .await
            .expect("an unarmed switch does not stop the start");
    engine
        .run_until(Some(common::t0() + chrono::Duration::minutes(10)))
        .await
        .expect("run");
    let st = handle.status();
    assert!(
        st.entry_hold
            .as_deref()
            .is_some_and(|h| h.contains("dead-man") && h.contains("process_enabled false")),
        "{:?}",
        st.entry_hold
    );
    let l = ledger.contents();
    assert!(
        l.intents.is_empty(),
        "nothing entered while the switch is not armed"
    );
    assert_eq!(
        l.events
            .iter()
            .filter(|e| e.kind == EventKind::EntriesHeld)
            .count(),
        1
    );

    // Armed again: the hold ends and the window's entry goes ahead.
    server.faults().set_heartbeat_ack(HeartbeatAck::Armed);
    engine
        .run_until(Some(common::t0() + chrono::Duration::minutes(20)))
        .await
        .expect("run");
    assert_eq!(handle.status().entry_hold, None);
    let l = ledger.contents();
    assert!(l.events.iter().any(|e| e.kind == EventKind::EntriesResumed));
    assert_eq!(l.sessions.len(), 1, "entered once armed: {:?}", l.events);

    // A heartbeat Delta forgot is created again at the next refresh; listing it sends the
    // user id the swagger requires (the market refuses a list without one here).
    server.faults().set_heartbeat_ack(HeartbeatAck::Lapsed);
    // Past a third of the TTL, so that the refresh is sent.
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    ex.keepalive().await.expect("re-created");
    assert!(server.deadman_armed());
    assert!(client
        .heartbeats()
        .await
        .expect("listed")
        .iter()
        .any(|h| h.heartbeat_id == "strangle-hold" && h.impact.as_deref() == Some("contracts")));
}
