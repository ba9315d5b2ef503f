//! Order answers that do not prove what happened, reproduced by the local market: a 2xx whose
//! body is not Delta's, a lookup answered in words Delta does not use for "not found", a
//! re-send refused as a duplicate. In each the order reaches the venue exactly once, and
//! nothing is sent again on a guess.

mod common;

use std::time::Duration;

use rust_decimal_macros::dec;
use strangle_core::error::ExchangeErrorKind;
use strangle_core::{Execution, MarketData};
use strangle_delta::exchange::DeltaExchange;
use strangle_delta::server::{FaultKind, FaultRule};
use strangle_delta::DeltaError;

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
async fn a_resend_refused_as_a_duplicate_finds_the_first_order() {
    let s = common::setup().await;
    let pid = product(&s).await;
    // The first attempt is placed but times out; the lookup falsely says "not found" in
    // Delta's words once; the re-send is refused as a duplicate client id; the next lookup
    // finds the order.
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
        .expect("the first order, found after the refused re-send");
    assert_eq!(o.client_order_id.as_deref(), Some("amb-dup"));
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
