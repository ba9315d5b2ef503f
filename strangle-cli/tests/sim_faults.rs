//! Every fault knob of `strangle sim-server`, set from the command line (`--fault`), from a
//! scenario file (`--scenario`) or through the token-protected admin endpoint, seen by a client
//! as Delta's shapes: each test starts the binary and checks what a request meets.

mod common;

use std::time::{Duration, Instant};

use common::{sim_server_env, sim_server_with, Dir};
use serde_json::{json, Value};
use strangle_delta::rest::{RestClient, Retry, RetryPolicy};
use strangle_delta::sign::QueryString;
use strangle_delta::{DeltaError, Environment};
use strangle_delta_market::demo_credentials;

/// A token for the admin endpoint in these tests (not a secret anywhere else).
const TOKEN: &str = "test-admin-token-0123456789";

fn client(url: &str, timeout: Duration) -> RestClient {
    RestClient::new(
        Environment::local(url),
        Some(demo_credentials()),
        RetryPolicy {
            max_retries: 0,
            timeout,
            ..RetryPolicy::default()
        },
    )
    .expect("client")
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// One request; `Ok(result)` or the client's typed error.
async fn call(
    c: &RestClient,
    method: &str,
    path: &str,
    query: &[(&str, &str)],
    body: Option<Value>,
) -> Result<Value, DeltaError> {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let body = body.map(|b| b.to_string());
    c.call::<Value>(
        method,
        path,
        &QueryString::new(query.iter().copied()),
        body.as_deref(),
        true,
        Retry::Never,
    )
    .await
    .map(|e| e.result.unwrap_or(Value::Null))
}

/// The HTTP status and Delta code of an API error (panics on anything else).
fn api(e: &Result<Value, DeltaError>) -> (u16, String) {
    match e {
        Err(DeltaError::Api { status, code, .. }) => (*status, code.clone()),
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// A live call with a bid on the market, and its product id.
async fn live_call(c: &RestClient) -> (u64, String) {
    let tickers = call(
        c,
        "GET",
        "/v2/tickers",
        &[("contract_types", "call_options")],
        None,
    )
    .await
    .expect("tickers");
    let t = tickers
        .as_array()
        .expect("a list")
        .iter()
        .find(|t| t["quotes"]["best_bid"].as_str().is_some_and(|b| b != "0"))
        .expect("a call with a bid")
        .clone();
    (
        t["product_id"].as_u64().expect("product id"),
        t["symbol"].as_str().expect("symbol").to_string(),
    )
}

/// The spot of the product's underlying, from its ticker.
async fn row_spot(c: &RestClient, product_id: u64) -> f64 {
    let tickers = call(c, "GET", "/v2/tickers", &[], None)
        .await
        .expect("tickers");
    tickers
        .as_array()
        .expect("list")
        .iter()
        .find(|t| t["product_id"].as_u64() == Some(product_id))
        .and_then(|t| t["spot_price"].as_str()?.parse().ok())
        .expect("a spot")
}

/// Sells one contract at the market; the order's answer.
async fn sell_one(c: &RestClient, product_id: u64) -> Result<Value, DeltaError> {
    call(
        c,
        "POST",
        "/v2/orders",
        &[],
        Some(json!({"product_id": product_id, "size": 1, "side": "sell", "order_type": "market_order"})),
    )
    .await
}

#[test]
fn request_rules_from_the_command_line() {
    let (_s, url, banner) = sim_server_with(&[
        "--fault",
        "rate_limit:path=/v2/tickers,reset_ms=2500,times=1",
        "--fault",
        "server-error:status=502,path=/v2/products,times=1",
        "--fault",
        "drop_request:path=/v2/settings,ms=50,times=1",
        "--fault",
        "garbled_answer:path=/v2/settings,times=1",
        "--fault",
        r#"{"fault": "answer", "path": "/v2/assets", "status": 404, "body": "<html>Not Found</html>", "times": 1}"#,
        "--fault",
        "slow_answer:path=/v2/indices,ms=1500,times=1",
    ]);
    assert!(
        banner
            .iter()
            .any(|l| l.contains("faults") && l.contains("rate_limit") && l.contains("slow_answer")),
        "{banner:?}"
    );
    rt().block_on(async {
        let c = client(&url, Duration::from_millis(700));
        // 429 with the reset the rule gave, then the next request passes.
        match call(&c, "GET", "/v2/tickers", &[], None).await {
            Err(DeltaError::Api {
                status: 429,
                retry_after_ms,
                ..
            }) => assert_eq!(retry_after_ms, Some(2500)),
            other => panic!("expected 429, got {other:?}"),
        }
        assert!(call(&c, "GET", "/v2/tickers", &[], None).await.is_ok());
        // 5xx once.
        assert_eq!(
            api(&call(&c, "GET", "/v2/products", &[], None).await).0,
            502
        );
        assert!(call(&c, "GET", "/v2/products", &[], None).await.is_ok());
        // A dropped request: 503 unprocessed; then a garbled (HTML) 200 the client cannot decode.
        assert_eq!(
            api(&call(&c, "GET", "/v2/settings", &[], None).await),
            (503, "unavailable".into())
        );
        match call(&c, "GET", "/v2/settings", &[], None).await {
            Err(DeltaError::Decode { .. }) => {}
            other => panic!("expected an undecodable answer, got {other:?}"),
        }
        assert!(call(&c, "GET", "/v2/settings", &[], None).await.is_ok());
        // A raw answer in a shape Delta does not document.
        match call(&c, "GET", "/v2/assets", &[], None).await {
            Err(DeltaError::Api { status: 404, .. }) | Err(DeltaError::Decode { .. }) => {}
            other => panic!("expected the raw 404, got {other:?}"),
        }
        assert!(call(&c, "GET", "/v2/assets", &[], None).await.is_ok());
        // An answer held past the client's timeout: the client cannot know it was served.
        match call(&c, "GET", "/v2/indices", &[], None).await {
            Err(DeltaError::Transport { maybe_sent, .. }) => assert!(maybe_sent),
            other => panic!("expected a timeout, got {other:?}"),
        }
        assert!(call(&c, "GET", "/v2/indices", &[], None).await.is_ok());
    });
}

#[test]
fn rejected_orders_and_latency_from_the_command_line() {
    let (_s, url, _) = sim_server_with(&[
        "--fault",
        "reject_order:code=insufficient_margin",
        "--fault",
        "latency:ms=300",
    ]);
    rt().block_on(async {
        let c = client(&url, Duration::from_secs(10));
        let started = Instant::now();
        let (id, _) = live_call(&c).await;
        assert!(
            started.elapsed() >= Duration::from_millis(300),
            "every answer is held at least the latency"
        );
        assert_eq!(
            api(&sell_one(&c, id).await),
            (400, "insufficient_margin".into())
        );
        let open = call(&c, "GET", "/v2/orders", &[], None)
            .await
            .expect("orders");
        assert_eq!(open, json!([]), "a refused order is not placed");
        let positions = call(&c, "GET", "/v2/positions/margined", &[], None)
            .await
            .expect("positions");
        assert_eq!(positions, json!([]));
    });
}

#[test]
fn clock_skew_from_the_command_line_expires_signatures() {
    let (_s, url, _) = sim_server_with(&["--fault", "clock_skew:secs=60"]);
    rt().block_on(async {
        let c = client(&url, Duration::from_secs(10));
        // Public requests are not signed and still pass.
        assert!(call(&c, "GET", "/v2/settings", &[], None).await.is_ok());
        assert_eq!(
            api(&call(&c, "GET", "/v2/wallet/balances", &[], None).await),
            (401, "SignatureExpired".into())
        );
    });
}

/// A ticker's quote time (µs) for `symbol`.
async fn quote_time(c: &RestClient, symbol: &str) -> u64 {
    let t = call(c, "GET", &format!("/v2/tickers/{symbol}"), &[], None)
        .await
        .expect("ticker");
    t["timestamp"].as_u64().expect("timestamp")
}

#[test]
fn stale_quotes_from_the_command_line_freeze_the_market() {
    // At 60x the synthetic market moves every 5 market seconds (~83 ms).
    let (_moving, moving_url, _) = sim_server_with(&["--speed", "60"]);
    let (_frozen, frozen_url, _) = sim_server_with(&["--speed", "60", "--fault", "stale_quotes"]);
    rt().block_on(async {
        let moving = client(&moving_url, Duration::from_secs(10));
        let frozen = client(&frozen_url, Duration::from_secs(10));
        let (_, sym) = live_call(&moving).await;
        let (a, b) = (
            quote_time(&moving, &sym).await,
            quote_time(&frozen, &sym).await,
        );
        tokio::time::sleep(Duration::from_millis(1200)).await;
        assert!(quote_time(&moving, &sym).await > a, "the market moves");
        assert_eq!(
            quote_time(&frozen, &sym).await,
            b,
            "the frozen one does not"
        );
    });
}

#[test]
fn position_knobs_from_the_command_line() {
    let (_s, url, _) = sim_server_with(&[
        "--fault",
        "position_rows:rows=id_only",
        "--fault",
        "margined_lagging",
        "--fault",
        "existing_heartbeat:answer=refuse",
    ]);
    let (_plain, plain_url, _) = sim_server_with(&[]);
    rt().block_on(async {
        for (url, faulty) in [(&url, true), (&plain_url, false)] {
            let c = client(url, Duration::from_secs(10));
            let (id, _) = live_call(&c).await;
            sell_one(&c, id).await.expect("a market sell fills");
            let rows = call(
                &c,
                "GET",
                "/v2/positions",
                &[("underlying_asset_symbol", "BTC")],
                None,
            )
            .await
            .expect("positions");
            let row = &rows.as_array().expect("rows")[0];
            assert_eq!(row["product_id"].as_u64(), Some(id));
            assert_eq!(row.get("product_symbol").is_none(), faulty, "{row}");
            // The wallet blocks the short's margin (20 % of its notional).
            let w = call(&c, "GET", "/v2/wallet/balances", &[], None)
                .await
                .expect("wallet");
            let d = |k: &str| -> f64 { w[0][k].as_str().expect(k).parse().expect(k) };
            let spot: f64 = row_spot(&c, id).await;
            assert!(
                (d("position_margin") - 0.2 * spot * 0.001).abs() < 0.01 * 0.2 * spot * 0.001,
                "{w}"
            );
            assert_eq!(d("blocked_margin"), d("position_margin"));
            assert!((d("available_balance") - (d("balance") - d("blocked_margin"))).abs() < 1e-6);
            let margined = call(&c, "GET", "/v2/positions/margined", &[], None)
                .await
                .expect("margined");
            assert_eq!(margined.as_array().expect("rows").is_empty(), faulty);
            let beat = json!({"heartbeat_id": "h1", "impact": "contracts", "contract_types": ["call_options"]});
            call(&c, "POST", "/v2/heartbeat/create", &[], Some(beat.clone()))
                .await
                .expect("first create");
            let again = call(&c, "POST", "/v2/heartbeat/create", &[], Some(beat)).await;
            if faulty {
                assert_eq!(api(&again), (400, "heartbeat_already_exists".into()));
            } else {
                assert!(again.is_ok(), "{again:?}");
            }
        }
    });
}

#[test]
fn expired_products_hidden_by_symbol_from_the_command_line() {
    // Two market seconds before the 12:00 UTC daily expiry, at 10x: expired in 0.2 s.
    let start = "2026-03-10T11:59:58Z";
    let (_s, url, _) = sim_server_with(&[
        "--start",
        start,
        "--speed",
        "10",
        "--fault",
        "expired_by_symbol_hidden",
    ]);
    let (_p, plain_url, _) = sim_server_with(&["--start", start, "--speed", "10"]);
    rt().block_on(async {
        let c = client(&url, Duration::from_secs(10));
        let plain = client(&plain_url, Duration::from_secs(10));
        let live = call(&c, "GET", "/v2/products", &[], None)
            .await
            .expect("products");
        let expiring = live
            .as_array()
            .expect("list")
            .iter()
            .find(|p| p["settlement_time"].as_str() == Some("2026-03-10T12:00:00Z"))
            .expect("a product expiring at noon")["symbol"]
            .as_str()
            .expect("symbol")
            .to_string();
        tokio::time::sleep(Duration::from_millis(1000)).await;
        let path = format!("/v2/products/{expiring}");
        assert_eq!(
            api(&call(&c, "GET", &path, &[], None).await),
            (404, "not_found".into())
        );
        let found = call(&plain, "GET", &path, &[], None).await.expect("found");
        assert_eq!(found["state"], "expired");
        let expired = call(&c, "GET", "/v2/products", &[("states", "expired")], None)
            .await
            .expect("expired list");
        assert!(expired
            .as_array()
            .expect("list")
            .iter()
            .any(|p| p["symbol"] == expiring.as_str()));
    });
}

#[test]
fn bad_fault_specs_and_scenarios_are_refused_with_the_reason() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_strangle"))
        .args([
            "sim-server",
            "--port",
            "0",
            "--start",
            "2026-03-10T04:00:00Z",
            "--fault",
            "latency:ms=5,path=/v2",
        ])
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("request rules only"), "{err}");
    let d = Dir::new("bad-scenario");
    let file = d.write("s.toml", "[[step]]\nfault = \"clear\"\n");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_strangle"))
        .args([
            "sim-server",
            "--port",
            "0",
            "--start",
            "2026-03-10T04:00:00Z",
            "--scenario",
        ])
        .arg(&file)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("step 1: needs after_secs or at"), "{err}");
}

/// `GET/POST/DELETE /admin/faults` with raw HTTP.
async fn admin(
    url: &str,
    method: reqwest::Method,
    token: Option<&str>,
    origin: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new().request(method, format!("{url}/admin/faults"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.expect("answer");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[test]
fn the_admin_endpoint_needs_its_token_refuses_browsers_and_sets_every_knob() {
    let (_off, off_url, off_banner) = sim_server_with(&[]);
    assert!(off_banner
        .iter()
        .any(|l| l.contains("admin") && l.contains("off")));
    let (_s, url, banner) =
        sim_server_env(&["--speed", "60"], &[("STRANGLE_SIM_ADMIN_TOKEN", TOKEN)]);
    assert!(
        !banner.iter().any(|l| l.contains(TOKEN)),
        "the token is never printed: {banner:?}"
    );
    use reqwest::Method;
    rt().block_on(async {
        // Off without a token; with one, only the right bearer, and never a browser page.
        assert_eq!(admin(&off_url, Method::GET, Some(TOKEN), None, None).await.0, 404);
        assert_eq!(admin(&url, Method::GET, None, None, None).await.0, 401);
        assert_eq!(admin(&url, Method::GET, Some("wrong-token-0123456789"), None, None).await.0, 401);
        let (status, body) = admin(
            &url,
            Method::POST,
            Some(TOKEN),
            Some("http://evil.example"),
            Some(json!({"fault": "latency", "ms": 100})),
        )
        .await;
        assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden_origin")));
        let (_, view) = admin(&url, Method::GET, Some(TOKEN), None, None).await;
        assert_eq!(view["result"]["latency_ms"], 0, "the refused request changed nothing");

        // A list is applied all or none: one bad item, nothing changes, and the error names it.
        let (status, body) = admin(
            &url,
            Method::POST,
            Some(TOKEN),
            None,
            Some(json!([{"fault": "latency", "ms": 100}, {"fault": "server_error", "status": 404}])),
        )
        .await;
        assert_eq!(status, 400);
        assert!(body.to_string().contains("body item 2: server_error: status 404 is not a 5xx"), "{body}");
        let (_, view) = admin(&url, Method::GET, Some(TOKEN), None, None).await;
        assert_eq!(view["result"]["latency_ms"], 0);

        // Every knob through the endpoint; the view shows each.
        let (status, view) = admin(
            &url,
            Method::POST,
            Some(TOKEN),
            None,
            Some(json!([
                {"fault": "rate_limit", "path": "/v2/tickers", "times": 1},
                {"fault": "server_error", "path": "/v2/tickers", "times": 1},
                {"fault": "slow_answer", "ms": 10, "path": "/v2/settings", "times": 1},
                {"fault": "drop_request", "ms": 10, "path": "/v2/settings", "times": 1},
                {"fault": "reject_order"},
                {"fault": "garbled_answer", "path": "/v2/l2orderbook", "times": 1},
                {"fault": "answer", "status": 418, "body": "teapot", "path": "/v2/assets", "times": 1},
                {"fault": "latency", "ms": 20},
                {"fault": "clock_skew", "secs": -20},
                {"fault": "stale_quotes"},
                {"fault": "existing_heartbeat", "answer": "refuse"},
                {"fault": "position_rows", "rows": "size_only"},
                {"fault": "margined_lagging"},
                {"fault": "expired_by_symbol_hidden"},
            ])),
        )
        .await;
        assert_eq!(status, 200, "{view}");
        let v = &view["result"];
        assert_eq!(v["rules"].as_array().map(Vec::len), Some(7), "{v}");
        assert_eq!(v["rules"][4], json!({"fault": "reject_order", "code": "insufficient_margin", "method": "POST", "path": "/v2/orders"}));
        assert_eq!(
            (v["latency_ms"].clone(), v["clock_skew_secs"].clone(), v["stale_quotes"].clone()),
            (json!(20), json!(-20), json!(true))
        );
        assert_eq!(v["existing_heartbeat"], "refuse");
        assert_eq!(v["position_rows"], "size_only");
        assert_eq!((v["margined_lagging"].clone(), v["expired_by_symbol_hidden"].clone()), (json!(true), json!(true)));
        let c = client(&url, Duration::from_secs(10));
        assert_eq!(api(&call(&c, "GET", "/v2/tickers", &[], None).await).0, 429);
        assert_eq!(api(&call(&c, "GET", "/v2/tickers", &[], None).await).0, 503);
        assert_eq!(api(&call(&c, "GET", "/v2/wallet/balances", &[], None).await), (401, "SignatureExpired".into()));

        // DELETE clears everything: the market answers normally again.
        let (_, view) = admin(&url, Method::DELETE, Some(TOKEN), None, None).await;
        assert_eq!(view["result"]["rules"], json!([]));
        assert_eq!(view["result"]["stale_quotes"], false);
        assert!(call(&c, "GET", "/v2/wallet/balances", &[], None).await.is_ok());
    });
}

#[test]
fn the_admin_endpoint_drops_websockets() {
    use futures_util::StreamExt;
    let (_s, url, _) = sim_server_env(&[], &[("STRANGLE_SIM_ADMIN_TOKEN", TOKEN)]);
    let ws_url = format!("{}/ws/public", url.replacen("http", "ws", 1));
    rt().block_on(async {
        let (mut ws, _) = tokio_tungstenite::connect_async(&ws_url)
            .await
            .expect("connects");
        let (status, _) = admin(
            &url,
            reqwest::Method::POST,
            Some(TOKEN),
            None,
            Some(json!({"fault": "drop_websockets"})),
        )
        .await;
        assert_eq!(status, 200);
        // The server closes the connection: a Close frame or the end of the stream.
        let closed = tokio::time::timeout(Duration::from_secs(10), async {
            while let Some(m) = ws.next().await {
                match m {
                    Ok(tokio_tungstenite::tungstenite::Message::Close(_)) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        })
        .await;
        assert!(closed.is_ok(), "the socket was dropped");
    });
}

#[test]
fn a_scenario_sets_knobs_when_the_market_clock_reaches_them() {
    let d = Dir::new("scenario");
    let file = d.write(
        "s.toml",
        r#"
# At 60x, 120 market seconds are 2 real seconds.
[[step]]
after_secs = 120
fault = "rate_limit"
path = "/v2/settings"
reset_ms = 1500

[[step]]
after_secs = 240
fault = "clear"
"#,
    );
    let path = file.to_string_lossy().to_string();
    let (_s, url, banner) = sim_server_with(&["--speed", "60", "--scenario", &path]);
    assert!(
        banner
            .iter()
            .any(|l| l.contains("scenario") && l.contains("2 step(s)")),
        "{banner:?}"
    );
    rt().block_on(async {
        let c = client(&url, Duration::from_secs(10));
        assert!(
            call(&c, "GET", "/v2/settings", &[], None).await.is_ok(),
            "no fault before its time"
        );
        let begun = Instant::now();
        let mut seen = Vec::new();
        while begun.elapsed() < Duration::from_secs(30) {
            let r = call(&c, "GET", "/v2/settings", &[], None).await;
            let now = if r.is_ok() { "ok" } else { "429" };
            if seen.last() != Some(&now) {
                if now == "429" {
                    assert_eq!(api(&r).0, 429);
                }
                seen.push(now);
            }
            if seen == ["ok", "429", "ok"] {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(
            seen,
            ["ok", "429", "ok"],
            "normal, limited from 120 s, cleared at 240 s"
        );
    });
}
