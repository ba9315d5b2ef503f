//! Delta's whole schema: every REST answer of the local market has every key of Delta's
//! recorded payload for that endpoint (`tests/fixtures/`, copied from
//! `../shared/fixtures/delta/`), with the same JSON type. Raw HTTP, so the adapter's own
//! parsing cannot hide a missing key.

mod common;

use common::*;
use futures_util::{SinkExt, StreamExt};
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use strangle_delta_market::demo_credentials;

/// Where `actual` departs from `expected`: a key missing, or a value of another JSON type. A
/// `null` in the fixture accepts anything; each element of an answer's array must match one
/// of the fixture's elements.
fn departures(expected: &Value, actual: &Value, path: &str, out: &mut Vec<String>) {
    let kind = |v: &Value| match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    match (expected, actual) {
        (Value::Null, _) => {}
        (Value::Object(e), Value::Object(a)) => {
            for (k, v) in e {
                match a.get(k) {
                    Some(x) => departures(v, x, &format!("{path}.{k}"), out),
                    None => out.push(format!("{path}.{k}: missing")),
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if !e.is_empty() && a.is_empty() {
                out.push(format!("{path}: empty, the fixture has elements"));
            }
            // Each element must look like one of the fixture's (Delta sends, e.g., a ticker
            // without a bid as nulls); the nearest one's departures are reported.
            for (i, x) in a.iter().enumerate() {
                let p = format!("{path}[{i}]");
                let nearest = e
                    .iter()
                    .map(|f| {
                        let mut d = Vec::new();
                        departures(f, x, &p, &mut d);
                        d
                    })
                    .min_by_key(Vec::len);
                out.extend(nearest.unwrap_or_default());
            }
        }
        (e, a) if kind(e) == kind(a) => {}
        (e, a) => out.push(format!("{path}: {} where Delta sends {}", kind(a), kind(e))),
    }
}

fn fixture(name: &str) -> Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&p).expect("fixture")).expect("fixture JSON")
}

/// Asserts that `actual` has the fixture's schema (`pick` takes the part to compare).
fn assert_schema(what: &str, expected: &Value, actual: &Value) {
    let mut out = Vec::new();
    departures(expected, actual, "", &mut out);
    assert!(
        out.is_empty(),
        "{what} departs from Delta's schema:\n  {}\nanswer: {}",
        out.join("\n  "),
        serde_json::to_string(actual).unwrap_or_default()
    );
}

/// A raw (signed when `auth`) request; the status and the JSON body.
async fn raw(
    s: &Setup,
    method: Method,
    path: &str,
    query: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let creds = demo_credentials();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    // A signature carries the wall-clock time the server checks it against (not a market time).
    let ts = chrono::Utc::now().timestamp().to_string(); // wall-clock-ok: a request signature
    let sig = strangle_delta::sign::sign(&creds.secret, method.as_str(), &ts, path, query, &body);
    let url = format!("{}{path}{query}", s.server.environment().rest_url());
    let resp = reqwest::Client::new()
        .request(method, url)
        .header("api-key", &creds.api_key)
        .header("timestamp", ts)
        .header("signature", sig)
        .header("Content-Type", "application/json")
        .header("User-Agent", "schema-test")
        .body(body)
        .send()
        .await
        .expect("answer");
    let status = resp.status().as_u16();
    let v = resp.json::<Value>().await.expect("JSON body");
    (status, v)
}

async fn get(s: &Setup, path: &str, query: &str) -> Value {
    let (status, v) = raw(s, Method::GET, path, query, None).await;
    assert_eq!(status, 200, "{path}{query}: {v}");
    v
}

#[tokio::test]
async fn every_rest_answer_has_deltas_whole_schema() {
    let s = setup().await;
    // Market data.
    let products = get(
        &s,
        "/v2/products",
        "?contract_types=call_options,put_options&states=live&page_size=20",
    )
    .await;
    assert_schema(
        "GET /v2/products",
        &fixture("products_options.json"),
        &products,
    );
    let tickers = get(
        &s,
        "/v2/tickers",
        "?contract_types=call_options,put_options&underlying_asset_symbols=BTC",
    )
    .await;
    assert_schema(
        "GET /v2/tickers",
        &fixture("tickers_btc_options.json"),
        &tickers,
    );
    // A call near the money with a bid and an ask.
    let near = tickers["result"]
        .as_array()
        .expect("tickers")
        .iter()
        .filter(|t| t["contract_type"] == "call_options")
        .filter(|t| t["quotes"]["best_bid"].is_string() && t["quotes"]["best_ask"].is_string())
        .min_by_key(|t| {
            let strike: Decimal = t["strike_price"]
                .as_str()
                .and_then(|x| x.parse().ok())
                .unwrap_or_default();
            (strike - Decimal::from(84_000)).abs()
        })
        .expect("a quoted call")
        .clone();
    let symbol = near["symbol"].as_str().expect("symbol").to_string();
    let pid = near["product_id"].as_u64().expect("product id");
    let bid = near["quotes"]["best_bid"]
        .as_str()
        .expect("bid")
        .to_string();
    let one = get(&s, &format!("/v2/products/{symbol}"), "").await;
    assert_schema(
        "GET /v2/products/{symbol}",
        &json!({"success": true, "result": fixture("products_options.json")["result"][0]}),
        &one,
    );
    let ticker = get(&s, &format!("/v2/tickers/{symbol}"), "").await;
    assert_schema(
        "GET /v2/tickers/{symbol}",
        &fixture("ticker_single_option.json"),
        &ticker,
    );
    let book = get(&s, &format!("/v2/l2orderbook/{symbol}"), "").await;
    assert_schema(
        "GET /v2/l2orderbook/{symbol}",
        &fixture("l2orderbook_option.json"),
        &book,
    );
    let product = &fixture("products_options.json")["result"][0];
    let assets = get(&s, "/v2/assets", "").await;
    assert_schema(
        "GET /v2/assets",
        &json!({"success": true, "result": [product["underlying_asset"]]}),
        &assets,
    );
    let indices = get(&s, "/v2/indices", "").await;
    assert_schema(
        "GET /v2/indices",
        &json!({"success": true, "result": [product["spot_index"]]}),
        &indices,
    );

    // Orders: one resting, one filled at the bid, one cancelled.
    let order = |coid: &str, price: &str| {
        json!({"product_id": pid, "size": 10, "side": "sell", "order_type": "limit_order",
               "limit_price": price, "time_in_force": "gtc", "client_order_id": coid})
    };
    let (st, resting) = raw(
        &s,
        Method::POST,
        "/v2/orders",
        "",
        Some(order("rest-1", "99999")),
    )
    .await;
    assert_eq!(st, 200, "{resting}");
    assert_schema(
        "POST /v2/orders (open)",
        &fixture("order_created.json"),
        &resting,
    );
    let (st, filled) = raw(
        &s,
        Method::POST,
        "/v2/orders",
        "",
        Some(order("fill-1", &bid)),
    )
    .await;
    assert_eq!(st, 200, "{filled}");
    assert_eq!(filled["result"]["state"], "closed", "{filled}");
    assert_schema(
        "POST /v2/orders (filled)",
        &fixture("order_filled.json"),
        &filled,
    );
    let open = get(&s, "/v2/orders", "?states=open").await;
    assert_schema("GET /v2/orders", &fixture("orders_open.json"), &open);
    let id = resting["result"]["id"].as_u64().expect("order id");
    let by_id = get(&s, &format!("/v2/orders/{id}"), "").await;
    assert_schema(
        "GET /v2/orders/{id}",
        &fixture("order_created.json"),
        &by_id,
    );
    let by_coid = get(&s, "/v2/orders/client_order_id/rest-1", "").await;
    assert_schema(
        "GET /v2/orders/client_order_id/{id}",
        &fixture("order_created.json"),
        &by_coid,
    );
    let (st, cancelled) = raw(
        &s,
        Method::DELETE,
        "/v2/orders",
        "",
        Some(json!({"id": id, "product_id": pid})),
    )
    .await;
    assert_eq!(st, 200, "{cancelled}");
    assert_schema(
        "DELETE /v2/orders",
        &fixture("order_cancelled.json"),
        &cancelled,
    );
    let history = get(&s, "/v2/orders/history", "").await;
    assert_eq!(
        history["result"].as_array().map(Vec::len),
        Some(2),
        "{history}"
    );
    assert_schema(
        "GET /v2/orders/history",
        &fixture("orders_open.json"),
        &history,
    );

    // Fills, positions, wallet.
    let fills = get(&s, "/v2/fills", "").await;
    assert_schema("GET /v2/fills", &fixture("fills.json"), &fills);
    let margined = get(&s, "/v2/positions/margined", "").await;
    assert_schema(
        "GET /v2/positions/margined",
        &fixture("positions.json"),
        &margined,
    );
    let single = get(&s, "/v2/positions", &format!("?product_id={pid}")).await;
    assert_schema(
        "GET /v2/positions?product_id",
        &fixture("position_single.json"),
        &single,
    );
    let flat = get(&s, "/v2/positions", "?product_id=1").await;
    assert_schema(
        "GET /v2/positions (flat)",
        &fixture("position_flat.json"),
        &flat,
    );
    let wallet = get(&s, "/v2/wallet/balances", "").await;
    assert_schema(
        "GET /v2/wallet/balances",
        &fixture("wallet_balances.json"),
        &wallet,
    );
    let (st, all) = raw(&s, Method::DELETE, "/v2/orders/all", "", Some(json!({}))).await;
    assert_eq!(st, 200, "{all}");
    assert_schema(
        "DELETE /v2/orders/all",
        &fixture("cancel_all_ok.json"),
        &all,
    );

    // Errors.
    let (st, missing) = raw(
        &s,
        Method::DELETE,
        "/v2/orders",
        "",
        Some(json!({"id": 1, "product_id": pid})),
    )
    .await;
    assert_eq!(st, 400);
    assert_schema(
        "an order not open",
        &fixture("error_open_order_not_found.json"),
        &missing,
    );
    let (st, bad) = raw(
        &s,
        Method::POST,
        "/v2/orders",
        "",
        Some(json!({"size": "x"})),
    )
    .await;
    assert_eq!(st, 400);
    assert_schema("a malformed order", &fixture("error_bad_schema.json"), &bad);
}

/// The check itself fails on a missing key and on a changed type.
#[test]
fn the_comparison_catches_a_missing_key_and_a_changed_type() {
    let expected = json!({"a": "1", "b": {"c": 2}, "d": [{"e": true}], "f": null});
    let mut out = Vec::new();
    departures(
        &expected,
        &json!({"a": 1, "b": {}, "d": [{"e": true}, {}], "f": 3}),
        "",
        &mut out,
    );
    assert_eq!(
        out,
        [
            ".a: number where Delta sends string",
            ".b.c: missing",
            ".d[1].e: missing"
        ]
    );
}

/// Pages follow Delta's cursor: `meta.after` until the last page, then `null`.
#[tokio::test]
async fn lists_page_with_an_after_cursor() {
    let s = setup().await;
    let mut after: Option<String> = None;
    let mut seen = 0;
    for _ in 0..100 {
        let q = match &after {
            Some(a) => format!("?page_size=50&after={a}"),
            None => "?page_size=50".to_string(),
        };
        let page = get(&s, "/v2/products", &q).await;
        seen += page["result"].as_array().map_or(0, Vec::len);
        match page["meta"]["after"].as_str() {
            Some(a) => after = Some(a.to_string()),
            None => break,
        }
    }
    let all = s.client.option_products().await.expect("products").len();
    assert_eq!(seen, all);
}

/// The JSON frames a raw WebSocket receives within `secs` seconds after `send`ing its messages,
/// until `done` says it has what it needs.
async fn frames(
    url: String,
    send: Vec<Value>,
    secs: u64,
    mut done: impl FnMut(&[Value]) -> bool,
) -> Vec<Value> {
    use tokio_tungstenite::tungstenite::Message;
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("connects");
    for m in send {
        ws.send(Message::text(m.to_string())).await.expect("sent");
    }
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
    while !done(&got) {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => {
                got.push(serde_json::from_str(t.as_str()).expect("a JSON frame"));
            }
            Ok(Some(Ok(_))) => {}
            _ => break,
        }
    }
    got
}

fn of_type<'a>(frames: &'a [Value], kind: &str) -> Vec<&'a Value> {
    frames.iter().filter(|f| f["type"] == kind).collect()
}

/// Every WebSocket channel the local market serves sends frames with every key of Delta's
/// recorded frames, typed the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_websocket_frame_has_deltas_whole_schema() {
    let s = setup().await;
    let ws = s.server.base_url().replacen("http", "ws", 1);
    let tickers = get(&s, "/v2/tickers", "?contract_types=call_options").await;
    // The call nearest the money (far in the money, a bid under intrinsic value has no IV).
    let t = tickers["result"]
        .as_array()
        .expect("tickers")
        .iter()
        .filter(|t| t["quotes"]["best_bid"].is_string())
        .min_by_key(|t| {
            let strike: Decimal = t["strike_price"]
                .as_str()
                .and_then(|x| x.parse().ok())
                .unwrap_or_default();
            (strike - Decimal::from(84_000)).abs()
        })
        .expect("a quoted call");
    let symbol = t["symbol"].as_str().expect("symbol").to_string();
    let pid = t["product_id"].as_u64().expect("id");
    let bid = t["quotes"]["best_bid"].as_str().expect("a bid").to_string();

    // Public channels.
    let subscribe = json!({"type": "subscribe", "payload": {"channels": [
        {"name": "ticker", "symbols": [symbol]},
        {"name": "ob_l1", "symbols": [symbol]},
        {"name": "mark_price", "symbols": [format!("MARK:{symbol}")]},
        {"name": "spot_price", "symbols": [".DEXBTUSD"]},
    ]}});
    let public = frames(format!("{ws}/ws/public"), vec![subscribe], 10, |f| {
        [
            "subscriptions",
            "ticker",
            "ob_l1",
            "mark_price",
            "spot_price",
        ]
        .iter()
        .all(|k| !of_type(f, k).is_empty())
    })
    .await;
    for (kind, file) in [
        ("subscriptions", "ws_subscriptions_ack.json"),
        ("ticker", "ws_ticker.json"),
        ("ob_l1", "ws_ob_l1.json"),
        ("mark_price", "ws_mark_price.json"),
        ("spot_price", "ws_spot_price.json"),
    ] {
        let got = of_type(&public, kind);
        assert!(!got.is_empty(), "no {kind} frame: {public:?}");
        for f in got {
            assert_schema(&format!("the {kind} frame"), &fixture(file), f);
        }
    }

    // Private channels: a resting order and a position first (for the snapshots), then
    // key-auth, then an order that fills.
    let order = |coid: &str, price: &str| {
        json!({"product_id": pid, "size": 10, "side": "sell", "order_type": "limit_order",
               "limit_price": price, "time_in_force": "gtc", "client_order_id": coid})
    };
    for o in [order("ws-rest", "99999"), order("ws-0", &bid)] {
        let (st, placed) = raw(&s, Method::POST, "/v2/orders", "", Some(o)).await;
        assert_eq!(st, 200, "{placed}");
    }
    let creds = demo_credentials();
    let ts = chrono::Utc::now().timestamp().to_string(); // wall-clock-ok: a key-auth signature
    let sig = strangle_delta::sign::sign(&creds.secret, "GET", &ts, "/live", "", "");
    let auth = json!({"type": "key-auth", "payload": {"api-key": creds.api_key, "signature": sig, "timestamp": ts}});
    let subscribe = json!({"type": "subscribe", "payload": {"channels": [
        {"name": "orders", "symbols": ["all"]},
        {"name": "positions", "symbols": ["all"]},
        {"name": "v2/user_trades", "symbols": ["all"]},
    ]}});
    let url = format!("{ws}/ws");
    let watcher = tokio::spawn(frames(
        url,
        vec![auth, json!({"type": "enable_heartbeat"}), subscribe],
        10,
        |f| {
            f.iter()
                .any(|x| x["type"] == "orders" && x["reason"] == "fill")
                && f.iter()
                    .any(|x| x["type"] == "positions" && x["action"] != "snapshot")
                && !of_type(f, "v2/user_trades").is_empty()
        },
    ));
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let (st, placed) = raw(
        &s,
        Method::POST,
        "/v2/orders",
        "",
        Some(order("ws-1", &bid)),
    )
    .await;
    assert_eq!(st, 200, "{placed}");
    let private = watcher.await.expect("frames");
    let pick = |kind: &str, snapshot: bool| -> Vec<&Value> {
        of_type(&private, kind)
            .into_iter()
            .filter(|f| (f["action"] == "snapshot") == snapshot)
            // The fixture's order update is a fill.
            .filter(|f| kind != "orders" || snapshot || f["reason"] == "fill")
            .collect()
    };
    for (what, got, file) in [
        (
            "key-auth",
            of_type(&private, "key-auth"),
            "ws_key_auth_success.json",
        ),
        (
            "orders snapshot",
            pick("orders", true),
            "ws_orders_snapshot.json",
        ),
        (
            "orders update",
            pick("orders", false),
            "ws_orders_update.json",
        ),
        (
            "positions snapshot",
            pick("positions", true),
            "ws_positions_snapshot.json",
        ),
        (
            "positions update",
            pick("positions", false),
            "ws_positions_update.json",
        ),
        (
            "v2/user_trades",
            of_type(&private, "v2/user_trades"),
            "ws_v2_user_trades.json",
        ),
    ] {
        assert!(!got.is_empty(), "no {what} frame: {private:?}");
        for f in got {
            assert_schema(&format!("the {what} frame"), &fixture(file), f);
        }
    }
}
