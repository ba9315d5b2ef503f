//! Issue 30 A: the local market's bracket orders and order edits, over signed HTTP, as Delta
//! documents them: `POST /v2/orders/bracket` puts a stop loss and a take profit on a whole
//! open position (one bracket per position, one leg cancelling the other, both gone when the
//! position closes); `PUT /v2/orders/bracket` moves their prices; `PUT /v2/orders` edits a
//! working order in place.

mod common;

use common::*;
use reqwest::Method;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::{json, Value};
use strangle_core::sim::synthetic::SyntheticMarket;
use strangle_delta::rest::Retry;
use strangle_delta::sign::QueryString;
use strangle_delta::DeltaError;

/// A signed call's `result`, or the error.
async fn call(
    s: &Setup,
    method: Method,
    path: &str,
    q: &[(&str, &str)],
    body: Option<Value>,
) -> Result<Value, DeltaError> {
    let body = body.map(|b| b.to_string());
    s.client
        .rest()
        .call::<Value>(
            method,
            path,
            &QueryString::new(q.iter().copied()),
            body.as_deref(),
            true,
            Retry::Never,
        )
        .await
        .map(|e| e.result.unwrap_or(Value::Null))
}

/// The product's orders Delta would list as open (untriggered stops included).
async fn open(s: &Setup, pid: u64) -> Vec<Value> {
    let pid = pid.to_string();
    let v = call(
        s,
        Method::GET,
        "/v2/orders",
        &[("product_ids", pid.as_str()), ("states", "open,pending")],
        None,
    )
    .await
    .expect("open orders");
    v.as_array().cloned().unwrap_or_default()
}

fn dec_of(v: &Value, key: &str) -> Decimal {
    v[key]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{key} in {v}"))
}

#[tokio::test]
async fn a_bracket_protects_a_whole_position_and_its_prices_move_in_place() {
    let s = setup().await;
    let tickers = s.client.tickers("BTC", None).await.expect("tickers");
    let t = tickers
        .iter()
        .find(|t| {
            t.symbol.starts_with("C-")
                && t.quotes
                    .as_ref()
                    .is_some_and(|q| q.best_bid.is_some_and(|b| b > dec!(100)))
        })
        .expect("a call with a bid");
    let pid = t.product_id.expect("id");
    let mark = t.mark_price.expect("mark");
    let bid = t.quotes.as_ref().and_then(|q| q.best_bid).expect("bid");
    // No position yet: nothing to put a bracket on.
    let bracket = json!({
        "product_id": pid,
        "stop_loss_order": {"order_type": "limit_order", "stop_price": (mark * dec!(2)).round().to_string(),
                            "limit_price": (mark * dec!(3)).round().to_string()},
        "take_profit_order": {"order_type": "market_order", "stop_price": (mark / dec!(4)).round().to_string()},
        "bracket_stop_trigger_method": "mark_price",
    });
    let e = call(
        &s,
        Method::POST,
        "/v2/orders/bracket",
        &[],
        Some(bracket.clone()),
    )
    .await
    .expect_err("no position");
    assert_eq!(e.code(), Some("no_position_for_bracket_order"), "{e}");

    s.client
        .place_order(&sell("short", pid, 3, bid))
        .await
        .expect("sold at the bid");
    assert!(open(&s, pid).await.is_empty(), "the sale filled");
    call(
        &s,
        Method::POST,
        "/v2/orders/bracket",
        &[],
        Some(bracket.clone()),
    )
    .await
    .expect("a bracket on the short");
    let orders = open(&s, pid).await;
    assert_eq!(orders.len(), 2, "{orders:?}");
    for o in &orders {
        assert_eq!(o["state"], "pending");
        assert_eq!(o["bracket_order"], true);
        assert_eq!(o["side"], "buy");
        assert_eq!(o["size"], 3, "the whole position");
        assert_eq!(o["reduce_only"], true);
        assert_eq!(o["client_order_id"], Value::Null);
    }
    let sl = orders
        .iter()
        .find(|o| o["stop_order_type"] == "stop_loss_order")
        .expect("a stop loss")
        .clone();
    let tp = orders
        .iter()
        .find(|o| o["stop_order_type"] == "take_profit_order")
        .expect("a take profit")
        .clone();
    assert_eq!(sl["order_type"], "limit_order");
    assert_eq!(tp["order_type"], "market_order");

    // One bracket per open position.
    let e = call(&s, Method::POST, "/v2/orders/bracket", &[], Some(bracket))
        .await
        .expect_err("a second bracket");
    assert_eq!(e.code(), Some("bracket_order_position_exists"), "{e}");
    // Brackets are not attached to entry orders here, and that is said.
    let e = call(
        &s,
        Method::POST,
        "/v2/orders",
        &[],
        Some(
            json!({"product_id": pid, "size": 1, "side": "sell", "order_type": "limit_order",
                    "limit_price": bid.to_string(), "bracket_stop_loss_price": "1"}),
        ),
    )
    .await
    .expect_err("refused");
    assert_eq!(e.code(), Some("bad_schema"));
    assert!(e.to_string().contains("POST /v2/orders/bracket"), "{e}");

    // The stop loss moves down in place (same order id), the take profit too.
    let lower = (mark * dec!(1.5)).round();
    call(
        &s,
        Method::PUT,
        "/v2/orders/bracket",
        &[],
        Some(json!({"id": sl["id"], "product_id": pid,
                    "bracket_stop_loss_price": lower.to_string()})),
    )
    .await
    .expect("bracket edited");
    let edited = call(
        &s,
        Method::PUT,
        "/v2/orders",
        &[],
        Some(json!({"id": tp["id"], "product_id": pid,
                    "stop_price": (mark / dec!(5)).round().to_string()})),
    )
    .await
    .expect("order edited");
    assert_eq!(edited["id"], tp["id"]);
    assert_eq!(dec_of(&edited, "stop_price"), (mark / dec!(5)).round());
    let orders = open(&s, pid).await;
    assert_eq!(orders.len(), 2);
    let now_sl = orders
        .iter()
        .find(|o| o["id"] == sl["id"])
        .expect("same order");
    assert_eq!(dec_of(now_sl, "stop_price"), lower);
    // A trail is for stop losses only.
    let e = call(
        &s,
        Method::PUT,
        "/v2/orders",
        &[],
        Some(json!({"id": tp["id"], "product_id": pid, "trail_amount": "10"})),
    )
    .await
    .expect_err("refused");
    assert_eq!(e.code(), Some("bad_schema"));

    // The market runs through the stop loss: the position closes, the take profit ends.
    let later = t0() + chrono::Duration::minutes(1);
    let mut up = SyntheticMarket::btc().chain(t0(), Decimal::from(82_000), 0.45);
    up.timestamp = later;
    let moved = up
        .entries
        .iter_mut()
        .find(|e| e.contract.product_id.get() == pid)
        .expect("the call");
    let run = lower * dec!(1.1);
    moved.quote.timestamp = later;
    moved.quote.mark = run;
    moved.quote.bid = Some(run - dec!(10));
    moved.quote.ask = Some(run + dec!(10));
    moved.quote.price_band = None;
    s.clock.set(later);
    s.server.venue().push_chain(up);
    assert!(open(&s, pid).await.is_empty(), "neither leg is working");
    let positions = s.client.positions("BTC").await.expect("positions");
    assert!(
        positions
            .iter()
            .all(|p| p.product_id != Some(pid) || p.size == Some(Decimal::ZERO)),
        "flat: {positions:?}"
    );
    let history = s.client.order_history(&[pid]).await.expect("history");
    let tp_after = history
        .iter()
        .find(|o| serde_json::to_value(o.id).ok() == Some(tp["id"].clone()))
        .expect("the take profit");
    assert_eq!(tp_after.state, "cancelled");
    let sl_after = history
        .iter()
        .find(|o| serde_json::to_value(o.id).ok() == Some(sl["id"].clone()))
        .expect("the stop loss");
    assert_eq!(sl_after.state, "closed", "filled");
}
