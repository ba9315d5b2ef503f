//! The real client against the local server over HTTP: every endpoint, signing, errors,
//! rate limits, retries, and order placement that never duplicates.

mod common;

use std::time::Duration;

use common::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use strangle_core::error::ExchangeErrorKind;
use strangle_core::model::Underlying;
use strangle_delta::wire::CancelOrder;
use strangle_delta::{Credentials, DeltaError};
use strangle_delta_market::{FaultKind, FaultRule};

#[tokio::test]
async fn public_market_data() {
    let s = setup().await;
    let products = s.client.option_products().await.expect("products");
    assert_eq!(
        products.len(),
        5 * 61 * 2,
        "every page was read: 3 dailies + 2 weeklies"
    );
    let fridays = products
        .iter()
        .filter_map(|p| p.settlement_time)
        .filter(|t| chrono::Datelike::weekday(t) == chrono::Weekday::Fri)
        .count();
    assert!(fridays >= 61 * 2, "weekly Friday expiries are listed");
    assert!(products.iter().all(|p| p
        .settlement_time
        .is_some_and(|t| t.format("%H:%M").to_string() == "12:00")));
    let tickers = s.client.tickers("BTC", None).await.expect("tickers");
    assert_eq!(tickers.len(), products.len());
    let date = products[0]
        .settlement_time
        .expect("settlement")
        .date_naive();
    let one_day = s
        .client
        .tickers("BTC", Some(date))
        .await
        .expect("one expiry");
    assert_eq!(one_day.len(), 61 * 2);
    let sym = &tickers[0].symbol;
    let t = s.client.ticker(sym).await.expect("ticker");
    assert_eq!(&t.symbol, sym);
    assert!(t.greeks.and_then(|g| g.delta).is_some());
    let book = s.client.l2_orderbook(sym, 5).await.expect("book");
    assert!(!book.sell.is_empty());
    let e = s
        .client
        .ticker("C-BTC-1-010101")
        .await
        .expect_err("unknown");
    assert_eq!(e.status(), Some(404));
}

#[tokio::test]
async fn signing_good_wrong_expired_and_unknown_key() {
    let s = setup().await;
    assert!(!s.client.wallet_balances().await.expect("signed").is_empty());

    let wrong = client_with(
        &s.server,
        Some(Credentials::new("sim-key", "not-the-secret").expect("creds")),
    );
    let e = wrong.wallet_balances().await.expect_err("wrong secret");
    assert_eq!(
        (e.status(), e.code()),
        (Some(401), Some("Signature Mismatch"))
    );
    assert_eq!(e.kind(), ExchangeErrorKind::Auth);
    assert!(
        !format!("{e} {e:?} {wrong:?}").contains("not-the-secret"),
        "the secret never shows"
    );

    let unknown = client_with(
        &s.server,
        Some(Credentials::new("nobody", "x").expect("creds")),
    );
    let e = unknown.wallet_balances().await.expect_err("unknown key");
    assert_eq!(e.code(), Some("invalid_api_key"));

    // The server's clock is 10 s ahead: every signature looks expired. The client re-signs on
    // each retry, and reports SignatureExpired in the end.
    s.server.faults().set_clock_skew(10);
    let e = s.client.wallet_balances().await.expect_err("expired");
    assert_eq!(e.code(), Some("SignatureExpired"));
    s.server.faults().set_clock_skew(0);

    let anonymous = client_with(&s.server, None);
    let e = anonymous
        .wallet_balances()
        .await
        .expect_err("no credentials");
    assert!(e.to_string().contains("needs API credentials"));
}

#[tokio::test]
async fn orders_fills_positions_and_cancels() {
    let s = setup().await;
    let t = s.client.tickers("BTC", None).await.expect("tickers");
    let x = t
        .iter()
        .find(|x| x.quotes.as_ref().and_then(|q| q.best_bid).is_some())
        .expect("a bid");
    let pid = x.product_id.expect("id");
    let bid = x.quotes.as_ref().and_then(|q| q.best_bid).expect("bid");

    // Crosses the bid: fills at once.
    let o = s
        .client
        .place_order(&sell("t-fill-1", pid, 3, bid))
        .await
        .expect("placed");
    assert_eq!(
        (o.state.as_str(), o.unfilled_size),
        ("closed", Some(dec!(0)))
    );
    assert_eq!(o.average_fill_price, Some(bid));
    let fills = s.client.fills(&[pid], None).await.expect("fills");
    assert_eq!(fills.len(), 1);
    assert_eq!(fills[0].order_id, Some(o.id.to_string()));
    let p = s.client.position(pid).await.expect("position");
    assert_eq!(p.size, Some(dec!(-3)));
    let all = s.client.positions("BTC").await.expect("positions");
    assert_eq!(all.len(), 1);
    assert_eq!(
        s.client.margined_positions().await.expect("margined").len(),
        1
    );

    // Rests above the bid; found by id and client id; cancelled; a second cancel fails.
    let high = bid * dec!(3);
    let o = s
        .client
        .place_order(&sell("t-rest-1", pid, 2, high))
        .await
        .expect("placed");
    assert_eq!(o.state, "open");
    assert_eq!(
        s.client
            .order(o.id)
            .await
            .expect("by id")
            .expect("found")
            .client_order_id
            .as_deref(),
        Some("t-rest-1")
    );
    assert!(s
        .client
        .order_by_client_id("t-rest-1")
        .await
        .expect("by coid")
        .is_some());
    assert!(s
        .client
        .order_by_client_id("never-sent")
        .await
        .expect("lookup")
        .is_none());
    assert_eq!(s.client.open_orders(&[pid]).await.expect("open").len(), 1);
    let c = s
        .client
        .cancel_order(&CancelOrder {
            id: None,
            client_order_id: Some("t-rest-1".into()),
            product_id: Some(pid),
        })
        .await
        .expect("cancelled");
    assert_eq!(c.state, "cancelled");
    let e = s
        .client
        .cancel_order(&CancelOrder {
            id: Some(o.id as i64),
            client_order_id: None,
            product_id: Some(pid),
        })
        .await
        .expect_err("not open");
    assert_eq!(e.code(), Some("open_order_not_found"));
    assert!(s.client.open_orders(&[]).await.expect("open").is_empty());

    // Cancel-all.
    s.client
        .place_order(&sell("t-rest-2", pid, 1, high))
        .await
        .expect("placed");
    s.client.cancel_all_options().await.expect("cancel all");
    assert!(s.client.open_orders(&[]).await.expect("open").is_empty());

    // Rejections carry Delta's code and are not retried.
    let mut bad = sell("t-bad-1", pid, 1, high);
    bad.reduce_only = Some(true);
    let e = s
        .client
        .place_order(&bad)
        .await
        .expect_err("reduce-only without position");
    assert_eq!(
        (e.status(), e.code()),
        (Some(400), Some("no_position_for_reduce_only"))
    );
    s.server.faults().add(FaultRule::new(
        Some("POST"),
        Some("/v2/orders"),
        FaultKind::RejectOrder("insufficient_margin".into()),
        1,
    ));
    let e = s
        .client
        .place_order(&sell("t-margin-1", pid, 1, high))
        .await
        .expect_err("margin");
    assert_eq!(e.kind(), ExchangeErrorKind::InsufficientMargin);
    assert!(s
        .client
        .order_by_client_id("t-margin-1")
        .await
        .expect("lookup")
        .is_none());
}

#[tokio::test]
async fn reads_are_retried_after_429_and_5xx() {
    let s = setup().await;
    s.server.faults().add(FaultRule::new(
        Some("GET"),
        Some("/v2/tickers"),
        FaultKind::RateLimit { reset_ms: 300 },
        1,
    ));
    let started = std::time::Instant::now();
    let t = s
        .client
        .tickers("BTC", None)
        .await
        .expect("retried after the reset");
    assert!(!t.is_empty());
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "waited for X-RATE-LIMIT-RESET"
    );
    s.server.faults().add(FaultRule::new(
        Some("GET"),
        Some("/v2/wallet"),
        FaultKind::ServerError(502),
        2,
    ));
    assert!(
        s.client.wallet_balances().await.is_ok(),
        "two 502s then success"
    );
    s.server.faults().add(FaultRule::new(
        Some("GET"),
        Some("/v2/wallet"),
        FaultKind::ServerError(500),
        10,
    ));
    let e = s.client.wallet_balances().await.expect_err("gives up");
    assert_eq!(e.status(), Some(500));
    assert!(e.is_retryable());
    assert_eq!(
        s.server.faults().hits(),
        1 + 2 + 4,
        "1 + max_retries attempts"
    );
}

#[tokio::test]
async fn a_timed_out_order_is_looked_up_not_duplicated() {
    let s = setup().await;
    let t = s.client.tickers("BTC", None).await.expect("tickers");
    let pid = t[0].product_id.expect("id");
    let high = dec!(100000);
    // The server places the order but answers after the client's 800 ms timeout.
    s.server.faults().add(FaultRule::new(
        Some("POST"),
        Some("/v2/orders"),
        FaultKind::SlowAnswer(Duration::from_millis(1500)),
        1,
    ));
    let o = s
        .client
        .place_order(&sell("t-slow-1", pid, 1, high))
        .await
        .expect("found by lookup");
    assert_eq!(o.client_order_id.as_deref(), Some("t-slow-1"));
    let sent = s
        .server
        .venue()
        .requests()
        .iter()
        .filter(|r| r.client_order_id == "t-slow-1")
        .count();
    assert_eq!(sent, 1, "the order reached the venue exactly once");

    // The server drops the request (503 after a delay, nothing placed): the client looks it
    // up, finds nothing by several lookups, and does not send it again on that guess (Delta
    // does not say how soon a new order is found, nor whether it refuses a second order with
    // the same client id): the answer is Uncertain, and the engine decides after a lag.
    s.server.faults().add(FaultRule::new(
        Some("POST"),
        Some("/v2/orders"),
        FaultKind::DropRequest(Duration::from_millis(50)),
        1,
    ));
    let err = s
        .client
        .place_order(&sell("t-drop-1", pid, 1, high))
        .await
        .expect_err("not proven placed, not re-sent");
    assert!(
        matches!(&err, strangle_delta::DeltaError::Uncertain { .. }),
        "{err}"
    );
    let sent = s
        .server
        .venue()
        .requests()
        .iter()
        .filter(|r| r.client_order_id == "t-drop-1")
        .count();
    assert_eq!(sent, 0, "never sent a second time");
}

#[tokio::test]
async fn user_agent_is_required_by_the_cdn() {
    let s = setup().await;
    let r = reqwest::Client::builder()
        .build()
        .expect("client")
        .get(format!("{}/v2/products", s.server.base_url()))
        .send()
        .await
        .expect("answer");
    assert_eq!(r.status().as_u16(), 403);
    let _ = Underlying::Btc;
}

#[tokio::test]
async fn cancel_after_timer_cancels_unless_renewed() {
    let s = setup().await;
    let t = s.client.tickers("BTC", None).await.expect("tickers");
    let pid = t[0].product_id.expect("id");
    s.client
        .place_order(&sell("t-ca-1", pid, 1, dec!(100000)))
        .await
        .expect("placed");
    s.client
        .cancel_after(Duration::from_millis(300))
        .await
        .expect("armed");
    assert!(s.server.deadman_armed());
    s.client
        .cancel_after(Duration::ZERO)
        .await
        .expect("disarmed");
    assert!(!s.server.deadman_armed());
    s.client
        .cancel_after(Duration::from_millis(200))
        .await
        .expect("armed");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(s.server.deadman_fired(), 1);
    assert!(s.client.open_orders(&[]).await.expect("open").is_empty());
}

/// Regression (found by the fault scenarios, seed 291): an order the venue filled, whose
/// fills could not be read because `GET /v2/fills` failed, was reported as a failed order, so
/// the engine believed the leg still open and kept sending exits the venue refused.
#[tokio::test]
async fn a_filled_order_whose_fills_cannot_be_read_yet_is_open_not_failed() {
    use strangle_core::model::{
        OrderRequest, OrderState, OrderType as CoreType, Side as CoreSide, TimeInForce,
    };
    use strangle_core::Execution;
    let s = setup().await;
    let t = s.client.tickers("BTC", None).await.expect("tickers");
    let ticker = &t[0];
    let exchange = strangle_delta::exchange::DeltaExchange::new(s.client.clone());
    // Fill-lookups fail for longer than the client retries.
    s.server.faults().add(FaultRule::new(
        Some("GET"),
        Some("/v2/fills"),
        FaultKind::ServerError(503),
        20,
    ));
    let request = OrderRequest {
        client_order_id: strangle_core::ids::ClientOrderId::new("t-fills-later")
            .expect("a valid id"),
        product_id: strangle_core::ids::ProductId(ticker.product_id.expect("id")),
        symbol: ticker.symbol.parse().expect("symbol"),
        side: CoreSide::Sell,
        size: Decimal::ONE,
        order_type: CoreType::Market,
        limit_price: None,
        time_in_force: TimeInForce::Ioc,
        reduce_only: false,
        stop: None,
    };
    let placed = exchange
        .place_order(&request)
        .await
        .expect("placed, not failed");
    assert_eq!(placed.state, OrderState::Open, "fills unknown: still open");
    assert!(placed.fills.is_empty());
    s.server.faults().clear();
    let later = exchange
        .order(&common::coid("t-fills-later"))
        .await
        .expect("lookup")
        .expect("known");
    assert_eq!(later.state, OrderState::Filled);
    assert_eq!(later.filled_size(), Decimal::ONE);
}

/// A client order id is 1 to 32 letters, digits, `-` or `_`: the client refuses another
/// before sending, and the local market refuses it too (Delta's `bad_schema`) when a client
/// sends one; nothing is placed either way.
#[tokio::test]
async fn a_bad_client_order_id_is_refused_and_nothing_is_placed() {
    let s = setup().await;
    let t = s.client.tickers("BTC", None).await.expect("tickers");
    let pid = t[0].product_id.expect("id");
    for bad in ["", "has/slash", "has space", &"x".repeat(33)] {
        let e = s
            .client
            .place_order(&sell(bad, pid, 1, dec!(100000)))
            .await
            .expect_err(bad);
        assert!(matches!(e, DeltaError::Invalid(_)), "{bad:?}: {e}");
    }
    // Signed and sent past the client's check, as another client would: the market refuses it.
    let body = serde_json::json!({"product_id": pid, "size": 1, "side": "sell",
        "order_type": "limit_order", "limit_price": "100000", "client_order_id": "has/slash"})
    .to_string();
    let e = s
        .client
        .rest()
        .call::<serde_json::Value>(
            reqwest::Method::POST,
            "/v2/orders",
            &strangle_delta::sign::QueryString::default(),
            Some(&body),
            true,
            strangle_delta::rest::Retry::Never,
        )
        .await
        .expect_err("refused");
    assert_eq!(e.code(), Some("bad_schema"), "{e}");
    assert!(s.server.venue().open_orders().is_empty());
    assert!(s.server.venue().open_orders().is_empty());
    let ok = s
        .client
        .place_order(&sell(&"y".repeat(32), pid, 1, dec!(100000)))
        .await
        .expect("32 characters are fine");
    assert_eq!(ok.client_order_id.as_deref(), Some("y".repeat(32).as_str()));
}

/// Delta counts requests per user: two clients of one key on one host spend one budget
/// (each engine of a `serve` process has its own client), and the live exchange reports
/// what is left for the heartbeat. Another key has its own.
#[tokio::test]
async fn clients_of_one_key_share_one_rate_budget() {
    use strangle_core::Execution;
    let s = common::setup().await;
    let other = common::client_with(&s.server, Some(strangle_delta_market::demo_credentials()));
    let before = s.client.rest().limiter().left().expect("limited");
    other.open_orders(&[]).await.expect("open orders");
    let after = s.client.rest().limiter().left().expect("limited");
    assert_eq!(
        before - after,
        3,
        "the other client's read (weight 3) spent this budget"
    );
    let ex = strangle_delta::exchange::DeltaExchange::new(other.clone());
    assert_eq!(ex.rate_budget_left(), Some(after));
    let stranger = common::client_with(
        &s.server,
        Some(strangle_delta::Credentials::new("another-key", "another-secret").expect("creds")),
    );
    assert_eq!(stranger.rest().limiter().left(), Some(10_000));
}

/// Open orders and order history are read page by page: more open orders than one page
/// holds are all listed, and a closed order is found in the history by its product.
#[tokio::test]
async fn open_orders_and_history_are_read_to_the_last_page() {
    let s = common::setup().await;
    let t = s.client.tickers("BTC", None).await.expect("tickers");
    let pid = t[0].product_id.expect("id");
    let high = rust_decimal_macros::dec!(100000);
    for i in 0..105 {
        s.client
            .place_order(&sell(&format!("t-page-{i}"), pid, 1, high))
            .await
            .expect("placed");
    }
    let open = s.client.open_orders(&[pid]).await.expect("open");
    assert_eq!(open.len(), 105, "more than one page of 100");
    s.client.cancel_all_options().await.expect("cancel all");
    let history = s.client.order_history(&[pid]).await.expect("history");
    assert_eq!(history.len(), 105, "three pages of at most 50");
    assert!(history
        .iter()
        .any(|o| o.client_order_id.as_deref() == Some("t-page-0")));
}
