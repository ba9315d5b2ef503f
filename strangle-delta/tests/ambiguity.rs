//! Order answers that do not prove what happened, reproduced by the local market: a 2xx whose
//! body is not Delta's, a lookup answered in words Delta does not use for "not found", a
//! re-send refused as a duplicate. In each the order reaches the venue exactly once, and
//! nothing is sent again on a guess.

mod common;

use std::time::Duration;
use strangle_core::audit::EventKind;

use rust_decimal_macros::dec;
use strangle_core::error::ExchangeErrorKind;
use strangle_core::{Execution, MarketData};
use strangle_delta::exchange::DeltaExchange;
use strangle_delta::DeltaError;
use strangle_delta_market::{FaultKind, FaultRule};

fn sent(s: &common::Setup, coid: &str) -> usize {
    s.server
        .venue()
        .requests()
        .iter()
        .filter(|r| r.client_order_id == coid)
        .count()
}

async fn product(s: &common::Setup) -> u64 {
    let t = s.client.tickers("BTC", None).await.expect("tickers");
    t[0].product_id.expect("id")
}

fn rule(method: &str, path: &str, kind: FaultKind, n: u32) -> FaultRule {
    FaultRule::new(Some(method), Some(path), kind, n)
}

/// An answer a proxy might give for an order lookup: Delta never says "not found" this way.
fn html_404() -> FaultKind {
    FaultKind::Answer {
        status: 404,
        body: "<html><body>404 Not Found</body></html>".into(),
    }
}

#[tokio::test]
async fn a_2xx_reply_that_cannot_be_decoded_is_looked_up_not_resent() {
    let s = common::setup().await;
    let pid = product(&s).await;
    s.server
        .faults()
        .add(rule("POST", "/v2/orders", FaultKind::GarbledAnswer, 1));
    let o = s
        .client
        .place_order(&common::sell("amb-garbled", pid, 1, dec!(100000)))
        .await
        .expect("found by its client id");
    assert_eq!(o.client_order_id.as_deref(), Some("amb-garbled"));
    assert_eq!(sent(&s, "amb-garbled"), 1);
}

#[tokio::test]
async fn a_lookup_in_other_words_than_delta_s_not_found_leaves_the_order_uncertain() {
    let s = common::setup().await;
    let pid = product(&s).await;
    for (coid, lookup) in [
        ("amb-html", html_404()),
        (
            "amb-key",
            FaultKind::Answer {
                status: 404,
                body: r#"{"success":false,"error":{"code":"api_key_not_found"}}"#.into(),
            },
        ),
    ] {
        // Placed, but the answer times out; the lookup answers in words that prove nothing.
        s.server.faults().add(rule(
            "POST",
            "/v2/orders",
            FaultKind::SlowAnswer(Duration::from_millis(1500)),
            1,
        ));
        s.server.faults().add(rule(
            "GET",
            &format!("/v2/orders/client_order_id/{coid}"),
            lookup,
            1,
        ));
        let err = s
            .client
            .place_order(&common::sell(coid, pid, 1, dec!(100000)))
            .await
            .expect_err("no proof either way");
        assert!(
            matches!(&err, DeltaError::Uncertain { client_order_id, .. } if client_order_id == coid),
            "{err}"
        );
        assert!(err.outcome_unknown());
        assert_eq!(sent(&s, coid), 1, "{coid}: never sent again on a guess");
        // Later, a lookup that works finds it.
        let found = s
            .client
            .order_by_client_id(coid)
            .await
            .expect("lookup")
            .expect("the order exists");
        assert_eq!(found.client_order_id.as_deref(), Some(coid));
    }
    // The engine's view of that error: uncertain, to be looked up.
    let ex = DeltaExchange::new(s.client.clone());
    s.server.faults().add(rule(
        "POST",
        "/v2/orders",
        FaultKind::SlowAnswer(Duration::from_millis(1500)),
        1,
    ));
    s.server.faults().add(rule(
        "GET",
        "/v2/orders/client_order_id/amb-core",
        html_404(),
        1,
    ));
    let chain = ex
        .chain(strangle_core::model::Underlying::Btc)
        .await
        .expect("chain");
    let e = &chain.entries[0];
    let req = common::core_sell("amb-core", e, dec!(100000));
    let err = ex.place_order(&req).await.expect_err("uncertain");
    assert_eq!(err.exchange_kind(), Some(ExchangeErrorKind::Uncertain));
}

#[tokio::test]
async fn a_not_found_right_after_a_timeout_is_looked_up_again_never_resent() {
    let s = common::setup().await;
    let pid = product(&s).await;
    // The first attempt is placed but times out; the lookup says "not found" in Delta's
    // words once (a new order not visible yet); the order is looked up again, not sent
    // again, and found.
    s.server.faults().add(rule(
        "POST",
        "/v2/orders",
        FaultKind::SlowAnswer(Duration::from_millis(1500)),
        1,
    ));
    s.server.faults().add(rule(
        "GET",
        "/v2/orders/client_order_id/amb-dup",
        FaultKind::Answer {
            status: 404,
            body: r#"{"success":false,"error":{"code":"not_found"}}"#.into(),
        },
        1,
    ));
    let o = s
        .client
        .place_order(&common::sell("amb-dup", pid, 1, dec!(100000)))
        .await
        .expect("the first order, found by the second lookup");
    assert_eq!(o.client_order_id.as_deref(), Some("amb-dup"));
    assert_eq!(sent(&s, "amb-dup"), 1, "never sent again");
    let at_venue = s
        .server
        .venue()
        .open_orders()
        .iter()
        .filter(|o| o.client_order_id == "amb-dup")
        .count();
    assert_eq!(at_venue, 1, "one order at the venue");
}

#[tokio::test]
async fn cancels_name_the_order_by_delta_s_id_once_known() {
    let s = common::setup().await;
    let ex = DeltaExchange::new(s.client.clone());
    let chain = ex
        .chain(strangle_core::model::Underlying::Btc)
        .await
        .expect("chain");
    let e = &chain.entries[0];
    let req = common::core_sell("amb-cancel", e, dec!(100000));
    ex.place_order(&req).await.expect("placed");
    let st = ex
        .cancel_order(&common::coid("amb-cancel"), e.contract.product_id)
        .await
        .expect("cancelled");
    assert_eq!(st.state, strangle_core::model::OrderState::Cancelled);
    // An order this exchange never saw can only be named by its client id.
    let _ = ex
        .cancel_order(&common::coid("amb-unknown"), e.contract.product_id)
        .await;
    assert_eq!(s.server.cancels_named_by(), vec!["id", "client_order_id"]);
}

/// A flat market whose client-id lookup finds a new order only `lag` after the venue took it,
/// and whose first order placement is answered after the client gave up.
async fn lagging_market(
    lag: Duration,
) -> (
    strangle_delta_market::LocalServer,
    std::sync::Arc<strangle_core::clock::ManualClock>,
) {
    let (server, clock) = common::flat_market().await;
    server.faults().set_lookup_lag(lag);
    server.faults().add(rule(
        "POST",
        "/v2/orders",
        FaultKind::SlowAnswer(Duration::from_millis(1500)),
        1,
    ));
    (server, clock)
}

/// A fresh exchange on `server` (a new process's: nothing cached).
fn fresh_exchange(server: &strangle_delta_market::LocalServer) -> std::sync::Arc<DeltaExchange> {
    std::sync::Arc::new(DeltaExchange::new(common::client_with(
        server,
        Some(strangle_delta_market::demo_credentials()),
    )))
}

/// Starts an engine of a fresh "lag" profile on `server`, on `ledger`, and runs it until
/// `for_how_long` after 09:30 IST.
async fn run_lagged(
    server: &strangle_delta_market::LocalServer,
    clock: std::sync::Arc<strangle_core::clock::ManualClock>,
    ledger: std::sync::Arc<strangle_core::memory::MemoryLedger>,
    for_how_long: chrono::Duration,
) {
    use strangle_core::engine::{Engine, EngineConfig};
    use strangle_core::ledger::Mode;
    use strangle_core::profile::Profile;
    let mut profile = Profile::named("lag");
    profile.liquidity.max_quote_age_secs = 900;
    let cfg = EngineConfig {
        mode: Mode::Sim,
        poll_interval: chrono::Duration::seconds(20),
        adopt: false,
        ioc_entries: false,
    };
    let (mut engine, _h) = Engine::start(profile, cfg, fresh_exchange(server), ledger, clock)
        .await
        .expect("engine");
    engine
        .run_until(Some(common::t0() + for_how_long))
        .await
        .expect("run");
}

/// Client ids of the entry orders that reached the venue.
fn entry_orders(server: &strangle_delta_market::LocalServer) -> Vec<String> {
    server
        .venue()
        .requests()
        .iter()
        .filter(|r| !r.reduce_only)
        .map(|r| r.client_order_id.to_string())
        .collect()
}

/// Issue 30 B: a venue that finds a new order by its client id only after a lag. The entry's
/// answer times out and the lookups right after say "not found": the engine keeps the order
/// working and reads it again, and finds it; no second order goes out for the leg.
#[tokio::test]
async fn an_order_found_only_after_a_lag_is_never_sent_twice() {
    use std::sync::Arc;
    use strangle_core::ledger::SessionState;
    use strangle_core::memory::MemoryLedger;

    // Orders are found by client id 3 market seconds after the venue takes them (within the
    // engine's 5 s absence confirmation).
    let (server, clock) = lagging_market(Duration::from_secs(3)).await;
    let ledger = Arc::new(MemoryLedger::new());
    run_lagged(
        &server,
        clock,
        ledger.clone(),
        chrono::Duration::minutes(10),
    )
    .await;
    let l = ledger.contents();
    let entries = entry_orders(&server);
    assert_eq!(
        entries.len(),
        2,
        "one order per leg: {entries:?} {:?}",
        l.events
    );
    assert!(entries.iter().all(|c| c.ends_with("E1")), "{entries:?}");
    assert_eq!(l.sessions[0].state, SessionState::Open, "{:?}", l.events);
    assert!(
        l.events
            .iter()
            .any(|e| e.kind == EventKind::ExchangeError && e.detail.contains("not found by")),
        "the lag was met: {:?}",
        l.events
    );
}

/// A lag of minutes, far past the engine's 5-second confirmation: the engine does not take
/// the lookup's "not found" for absence, because the product's open orders and order history
/// show the order; no second order goes out for the leg.
#[tokio::test]
async fn an_order_the_lookup_misses_for_minutes_is_found_among_its_product_s_orders() {
    use std::sync::Arc;
    use strangle_core::ledger::SessionState;
    use strangle_core::memory::MemoryLedger;

    let (server, clock) = lagging_market(Duration::from_secs(600)).await;
    let ledger = Arc::new(MemoryLedger::new());
    run_lagged(&server, clock, ledger.clone(), chrono::Duration::minutes(5)).await;
    let l = ledger.contents();
    let entries = entry_orders(&server);
    assert_eq!(
        entries.len(),
        2,
        "one order per leg: {entries:?} {:?}",
        l.events
    );
    assert!(entries.iter().all(|c| c.ends_with("E1")), "{entries:?}");
    assert_eq!(l.sessions[0].state, SessionState::Open, "{:?}", l.events);
}

/// Seed 12936 of the fault scenarios: a restart while the venue's lookup lags. Recovery asked
/// the client-id lookup only, took "not found" for an order that had filled, and refused to
/// trade over a position it could not explain. Now the product's open orders and order
/// history are read too, and the fill is booked.
#[tokio::test]
async fn recovery_during_the_lookup_lag_finds_a_filled_order_and_books_it() {
    use std::sync::Arc;
    use strangle_core::memory::MemoryLedger;
    use strangle_core::recovery::reconcile;
    use strangle_core::Clock;

    let (server, clock) = lagging_market(Duration::from_secs(600)).await;
    let ledger = Arc::new(MemoryLedger::new());
    // The engine dies right after sending the entry: one order's answer was lost.
    run_lagged(
        &server,
        clock.clone(),
        ledger.clone(),
        chrono::Duration::seconds(1),
    )
    .await;
    let held = server
        .venue()
        .positions(strangle_core::model::Underlying::Btc)
        .await
        .expect("positions");
    assert_eq!(held.len(), 2, "both legs filled at the venue: {held:?}");
    let fills_before = ledger.contents().fills.len();
    assert_eq!(fills_before, 1, "the ledger knows one leg's fill");
    // A new process: nothing cached, the lookup still lagging.
    let r = reconcile(
        &*fresh_exchange(&server),
        &*ledger,
        "lag",
        false,
        clock.now(),
    )
    .await
    .expect("reconciled, not refused");
    assert_eq!(r.fills_added, 1, "{r:?}");
    let l = ledger.contents();
    assert!(l.sessions[0].legs.iter().all(|g| !g.book.open().is_zero()));
}
