//! The REST API of `strangle serve` as a process, over real TCP: the printed token, binding
//! rules, engines started and stopped through the API, the ledger file's mode. Every route's
//! status codes and JSON shapes are checked in process in `routes.rs`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};

struct Server {
    child: Child,
    url: String,
    dir: std::path::PathBuf,
    /// The token set, or the one the server generated and printed in its dashboard link.
    token: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn serve(token: Option<&str>) -> Server {
    serve_with("basic", token, &[], &[])
}

/// Starts `strangle serve` on a free port with its own ledger in a fresh directory.
fn serve_with(name: &str, token: Option<&str>, args: &[&str], env: &[(&str, &str)]) -> Server {
    let dir = std::env::temp_dir().join(format!("strangle_api_{}_{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("strangle"));
    cmd.args([
        "--ledger",
        &dir.join("api.db").display().to_string(),
        "serve",
        "--listen",
        "127.0.0.1:0",
    ])
    .args(args)
    .stdout(Stdio::piped())
    .env_remove("STRANGLE_API_TOKEN")
    .env_remove("STRANGLE_WEBHOOK_URL")
    .env_remove("STRANGLE_TELEGRAM_BOT_TOKEN")
    .env_remove("STRANGLE_TELEGRAM_CHAT_ID")
    .env_remove("STRANGLE_CORS_ORIGINS");
    if let Some(t) = token {
        cmd.env("STRANGLE_API_TOKEN", t);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("serve starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let line = lines.next().expect("a line").expect("text");
    let url = line.rsplit(' ').next().expect("url").to_string();
    let token = match token {
        Some(t) => t.to_string(),
        None => {
            // Without STRANGLE_API_TOKEN the server makes one and prints it once, in the link.
            let link = lines.next().expect("the dashboard line").expect("text");
            link.split("#token=")
                .nth(1)
                .expect("a token")
                .trim()
                .to_string()
        }
    };
    std::thread::spawn(move || for _ in lines.by_ref() {});
    Server {
        child,
        url,
        dir,
        token,
    }
}

/// A client sending `token` with every request.
fn authed(token: &str) -> reqwest::Client {
    let mut h = reqwest::header::HeaderMap::new();
    h.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().expect("header"),
    );
    reqwest::Client::builder()
        .default_headers(h)
        .build()
        .expect("client")
}

/// Over real TCP: without STRANGLE_API_TOKEN the server makes a 256-bit token, prints it once
/// in the dashboard link, and every API request needs it. (Status codes and JSON shapes of
/// every route are checked in process, in `routes.rs`.)
#[tokio::test]
async fn the_generated_token_is_printed_once_and_required() {
    let s = serve(None);
    assert_eq!(s.token.len(), 64, "a generated 256-bit token");
    let c = reqwest::Client::new();
    let url = format!("{}/api/configs", s.url);
    let r = c.get(&url).send().await.expect("send");
    assert_eq!(r.status(), 401);
    let r = c.get(&url).bearer_auth("nope").send().await.expect("send");
    assert_eq!(r.status(), 401);
    let r = authed(&s.token).get(&url).send().await.expect("send");
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.expect("json"), json!([]));
}

#[test]
fn listening_beyond_loopback_needs_a_token() {
    assert_cmd::Command::cargo_bin("strangle")
        .expect("bin")
        .env_remove("STRANGLE_API_TOKEN")
        .args([
            "--ledger",
            &std::env::temp_dir()
                .join("strangle_api_refuse.db")
                .display()
                .to_string(),
        ])
        .args(["serve", "--listen", "0.0.0.0:0"])
        .assert()
        .code(6)
        .stderr(predicates::str::contains("STRANGLE_API_TOKEN"));
}

/// A local HTTP receiver for webhook notifications: records every JSON body it gets.
async fn webhook_receiver() -> (String, std::sync::Arc<std::sync::Mutex<Vec<Value>>>) {
    use axum::routing::post;
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move |axum::Json(v): axum::Json<Value>| {
            let sink = sink.clone();
            async move {
                sink.lock().expect("lock").push(v);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/hook"), got)
}

struct Client {
    c: reqwest::Client,
    url: String,
    token: &'static str,
}

impl Client {
    async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .c
            .get(format!("{}{path}", self.url))
            .bearer_auth(self.token)
            .send()
            .await
            .expect("send");
        let status = r.status().as_u16();
        let text = r.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = self
            .c
            .post(format!("{}{path}", self.url))
            .bearer_auth(self.token)
            .json(body)
            .send()
            .await
            .expect("send");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn put(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = self
            .c
            .put(format!("{}{path}", self.url))
            .bearer_auth(self.token)
            .json(body)
            .send()
            .await
            .expect("send");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn control(&self, action: &str, id: i64) -> (u16, Value) {
        self.post(
            "/api/trading/control",
            &json!({"action": action, "configuration_id": id}),
        )
        .await
    }

    /// Polls the heartbeat of `id` until `done` holds (the server runs a 60× clock, so this
    /// takes seconds; the bound only keeps a broken build from hanging the suite).
    async fn wait_for(&self, id: i64, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        for _ in 0..600 {
            let (_, v) = self
                .get(&format!("/api/trading/heartbeat?configuration_id={id}"))
                .await;
            let hb = v["engines"][0].clone();
            if done(&hb) {
                return hb;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        panic!("profile {id} never reached: {what}");
    }
}

/// A server whose simulated market starts at 09:29 IST and runs 60 times faster than real
/// time, notifying a webhook here; a client with its token; what the webhook received.
async fn sim_serve(name: &str) -> (Server, Client, std::sync::Arc<std::sync::Mutex<Vec<Value>>>) {
    let (hook, got) = webhook_receiver().await;
    let s = serve_with(
        name,
        Some("tk"),
        &["--sim-start", "2026-03-10T03:59:00Z", "--sim-speed", "60"],
        &[("STRANGLE_WEBHOOK_URL", hook.as_str())],
    );
    let c = Client {
        c: reqwest::Client::new(),
        url: s.url.clone(),
        token: "tk",
    };
    (s, c, got)
}

fn profile(name: &str, underlying: &str) -> Value {
    json!({
        "name": name,
        "underlying": underlying,
        "entry_time": "09:30",
        "exit_time": "15:20",
        "contracts_per_leg": "1",
        "liquidity": {"max_quote_age_secs": 900}
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trading_control_runs_several_profiles_at_once_and_never_one_twice() {
    let (s, c, got) = sim_serve("control").await;
    let (st, btc) = c.post("/api/configs", &profile("btc", "BTC")).await;
    assert_eq!(st, 201, "{btc}");
    let btc = btc["id"].as_i64().expect("id");
    let (_, eth) = c.post("/api/configs", &profile("eth", "ETH")).await;
    let eth = eth["id"].as_i64().expect("id");

    // Before any start: idle, with the next entry window in the runtime view.
    let (st, hb) = c
        .get(&format!("/api/trading/heartbeat?configuration_id={btc}"))
        .await;
    assert_eq!(st, 200);
    assert_eq!(hb["engines"][0]["status"], "idle");
    let (_, rt) = c
        .get(&format!("/api/trading/runtime?configuration_id={btc}"))
        .await;
    assert!(
        rt["engines"][0]["schedule"]["next_entry"].is_string(),
        "{rt}"
    );
    assert_eq!(rt["engines"][0]["schedule"]["entry_time_ist"], "09:30");

    // Invalid requests name every bad field and start nothing.
    let (st, v) = c
        .post(
            "/api/trading/control",
            &json!({"action": "launch", "configuration_id": "one", "x": 1}),
        )
        .await;
    assert_eq!(st, 422);
    let fields: Vec<&str> = v["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["field"].as_str())
        .collect();
    assert_eq!(fields.len(), 3, "{v}");
    assert!(
        fields.contains(&"action") && fields.contains(&"configuration_id") && fields.contains(&"x")
    );
    let (st, _) = c.post("/api/trading/control", &json!({})).await;
    assert_eq!(st, 422);
    assert_eq!(c.control("start", 999).await.0, 404);
    assert_eq!(c.control("stop", btc).await.0, 409, "not running yet");
    let (st, v) = c
        .post(
            "/api/trading/control",
            &json!({"action": "start", "configuration_id": btc, "market": "live"}),
        )
        .await;
    assert_eq!(st, 403, "{v}");
    let (_, hb) = c.get("/api/trading/heartbeat").await;
    assert_eq!(hb["engines"], json!([]), "nothing started");

    // Two concurrent starts of one profile: exactly one wins. Another profile runs beside it.
    let (a, b, e) = tokio::join!(
        c.control("start", btc),
        c.control("start", btc),
        c.control("start", eth)
    );
    let mut codes = [a.0, b.0];
    codes.sort_unstable();
    assert_eq!(codes, [200, 409], "{a:?} {b:?}");
    assert_eq!(e.0, 200, "{e:?}");
    assert_eq!(e.1["heartbeat"]["status"], "running");
    assert_eq!(e.1["heartbeat"]["mode"], "sim");

    // Both open a strangle at 09:30 IST.
    for id in [btc, eth] {
        c.wait_for(id, "an open strangle", |h| h["phase"] == "open")
            .await;
    }
    let (_, rt) = c
        .get(&format!("/api/trading/runtime?configuration_id={btc}"))
        .await;
    let r = &rt["engines"][0];
    assert_eq!(r["state"]["legs"].as_array().map(Vec::len), Some(2), "{r}");
    for leg in r["state"]["legs"].as_array().expect("legs") {
        assert!(
            leg["strike"].is_string() && leg["mark"].is_string(),
            "{leg}"
        );
        let d = leg["entry_delta"].as_f64().expect("delta").abs();
        assert!((0.10..=0.15).contains(&d), "{leg}");
    }
    assert!(r["state"]["spot"].is_string());
    assert!(
        r["schedule"]["seconds_to_exit"]
            .as_i64()
            .expect("countdown")
            > 0
    );
    assert!(r["limits"]["max_loss_usd"]
        .as_str()
        .expect("max loss")
        .starts_with('-'));
    assert_eq!(r["limits"]["max_profit_pct"], "80");

    // A running profile cannot be changed or deleted, nor started twice.
    let put =
        c.c.put(format!("{}/api/configs/{btc}", s.url))
            .bearer_auth("tk")
            .json(&profile("btc", "BTC"))
            .send()
            .await
            .expect("send");
    assert_eq!(put.status(), 409);
    let del =
        c.c.delete(format!("{}/api/configs/{btc}", s.url))
            .bearer_auth("tk")
            .send()
            .await
            .expect("send");
    assert_eq!(del.status(), 409);
    assert_eq!(c.control("start", btc).await.0, 409);

    // Metrics and the dashboard see both engines.
    let (st, m) = c.get("/metrics").await;
    assert_eq!(st, 200);
    let m = m.as_str().expect("text").to_string();
    assert!(m.contains("strangle_engines_running 2"), "{m}");
    assert!(
        m.contains(r#"strangle_engine_phase{profile="btc",mode="sim",phase="open"} 1"#),
        "{m}"
    );
    assert!(
        m.contains("strangle_session_net_pnl_usd{profile=\"eth\"}"),
        "{m}"
    );
    assert!(m.contains(r#"strangle_http_requests_total{method="POST",route="/api/trading/control",status="409"}"#), "{m}");
    let (st, d) = c.get("/api/analytics/dashboard").await;
    assert_eq!(st, 200);
    assert_eq!(d["engines"].as_array().map(Vec::len), Some(2));
    assert!(d["open_pnl"].is_string());

    // Restart keeps the open strangle (adopted from the ledger); stop and panic flatten.
    let (st, _) = c.control("restart", btc).await;
    assert_eq!(st, 200);
    let (st, v) = c.control("stop", btc).await;
    assert_eq!(st, 200);
    assert_eq!(v["heartbeat"]["status"], "stopping");
    let (st, _) = c.control("panic", eth).await;
    assert_eq!(st, 200);
    for id in [btc, eth] {
        let hb = c
            .wait_for(id, "stopped", |h| h["status"] == "stopped")
            .await;
        assert_eq!(hb["phase"], "stopped");
    }
    assert_eq!(c.control("stop", btc).await.0, 409, "already stopped");

    // The full runtime lists every engine this server ran, in id order, the ended ones with
    // the last state they published.
    let (st, rt) = c.get("/api/trading/runtime").await;
    assert_eq!(st, 200);
    let engines = rt["engines"].as_array().expect("engines");
    let ids: Vec<_> = engines
        .iter()
        .map(|e| e["heartbeat"]["configuration_id"].clone())
        .collect();
    assert_eq!(ids, [json!(btc.min(eth)), json!(btc.max(eth))], "{rt}");
    for e in engines {
        assert_eq!(e["heartbeat"]["status"], "stopped", "{e}");
        assert_eq!(e["state"]["phase"], "stopped", "{e}");
    }

    // Two sessions recorded, flat, with their exit reasons.
    let (_, page) = c.get("/api/trading/sessions").await;
    assert_eq!(page["total"], 2, "{page}");
    for sess in page["items"].as_array().expect("items") {
        assert_eq!(sess["state"], "closed", "{sess}");
    }
    let reasons: Vec<&str> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|s| s["exit_reason"].as_str())
        .collect();
    assert!(reasons.contains(&"panic"), "{reasons:?}");

    // A stopped profile can start again (and be changed).
    let (st, _) = c.control("start", btc).await;
    assert_eq!(st, 200);
    let (st, _) = c.control("stop", btc).await;
    assert_eq!(st, 200);
    c.wait_for(btc, "stopped again", |h| h["status"] == "stopped")
        .await;

    // The webhook heard both entries and both exits.
    let events: Vec<(String, String)> = got
        .lock()
        .expect("lock")
        .iter()
        .map(|v| {
            (
                v["event"].as_str().unwrap_or_default().to_string(),
                v["profile"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    for p in ["btc", "eth"] {
        for e in ["entry", "exit"] {
            assert!(
                events.contains(&(e.to_string(), p.to_string())),
                "{e} of {p} missing: {events:?}"
            );
        }
    }

    // Without the token, every endpoint answers 401.
    let bare = reqwest::Client::new();
    for path in [
        "/api/trading/heartbeat",
        "/api/trading/runtime",
        "/api/analytics/dashboard",
        "/metrics",
        "/api/openapi.json",
    ] {
        let r = bare
            .get(format!("{}{path}", s.url))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 401, "{path}");
    }
    let r = bare
        .post(format!("{}/api/trading/control", s.url))
        .json(&json!({"action": "start", "configuration_id": btc}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 401);
    let (_, hb) = c
        .get(&format!("/api/trading/heartbeat?configuration_id={btc}"))
        .await;
    assert_eq!(
        hb["engines"][0]["status"], "stopped",
        "the 401 started nothing"
    );
}

/// Issue 33 A over real TCP: the account risk governor watches both engines of the server;
/// a daily loss cap their combined PnL passes halts it, which flattens both and holds their
/// entries, says so in the audit trail, the API and the webhook; the operator's reset lifts it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_account_governor_halts_every_engine_and_an_operator_resets_it() {
    let (_server, c, got) = sim_serve("governor").await;
    // Nothing is governed before limits are set; bad limits name every field.
    let (st, v) = c.get("/api/risk").await;
    assert_eq!(
        (st, v["limits"].clone(), v["state"].clone()),
        (200, Value::Null, json!("active"))
    );
    assert_eq!(c.post("/api/risk/reset", &json!({})).await.0, 404);
    let (st, v) = c
        .put(
            "/api/risk/limits",
            &json!({"daily_loss_usd": "-1", "mtm_stop_usd": "0"}),
        )
        .await;
    assert_eq!(st, 422, "{v}");
    assert_eq!(v["fields"].as_array().map(Vec::len), Some(2), "{v}");
    let ids = {
        let mut ids = Vec::new();
        for (name, u) in [("btc", "BTC"), ("eth", "ETH")] {
            let (_, p) = c.post("/api/configs", &profile(name, u)).await;
            let id = p["id"].as_i64().expect("id");
            assert_eq!(c.control("start", id).await.0, 200);
            ids.push(id);
        }
        ids
    };
    for &id in &ids {
        c.wait_for(id, "an open strangle", |h| h["phase"] == "open")
            .await;
    }
    // Right after entry, closing both strangles would cost their spreads and fees: a cap of a
    // hundredth of a cent is passed at once.
    let (st, v) = c
        .put("/api/risk/limits", &json!({"daily_loss_usd": "0.0001"}))
        .await;
    assert_eq!(st, 200, "{v}");
    for &id in &ids {
        let hb = c
            .wait_for(id, "flattened by the governor", |h| {
                h["phase"] == "waiting" && h["entry_hold"].is_string()
            })
            .await;
        assert!(
            hb["entry_hold"]
                .as_str()
                .is_some_and(|t| t.contains("halted")),
            "{hb}"
        );
    }
    let (_, v) = c.get("/api/risk").await;
    assert_eq!(v["state"], "halted", "{v}");
    assert_eq!(v["governor"]["trigger"]["trigger"], "daily_loss", "{v}");
    let (_, page) = c.get("/api/trading/sessions").await;
    let reasons: Vec<&str> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|s| s["exit_reason"].as_str())
        .collect();
    assert_eq!(reasons, ["account_risk", "account_risk"], "{page}");

    // The operator resets: both engines may enter again (the next day's window).
    let (st, v) = c.post("/api/risk/reset", &json!({})).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["transition"]["to"], "active");
    assert_eq!(v["risk"]["state"], "active");
    for &id in &ids {
        c.wait_for(id, "entries allowed again", |h| h["entry_hold"].is_null())
            .await;
    }
    let events: Vec<Value> = got.lock().expect("lock").clone();
    let risk: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "account_risk")
        .collect();
    assert!(!risk.is_empty(), "{events:?}");
    assert!(
        risk[0]["text"]
            .as_str()
            .is_some_and(|t| t.contains("daily loss cap")),
        "{:?}",
        risk[0]
    );
    for &id in &ids {
        assert_eq!(c.control("stop", id).await.0, 200);
    }
}

/// A wildcard CORS origin stops `serve` at start with exit 3 (invalid input).
#[test]
fn a_wildcard_origin_stops_serve_at_start() {
    let dir = std::env::temp_dir().join(format!("strangle_api_{}_wild", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    assert_cmd::Command::cargo_bin("strangle")
        .expect("bin")
        .env_remove("STRANGLE_API_TOKEN")
        .args(["--ledger", &dir.join("x.db").display().to_string()])
        .args(["serve", "--listen", "127.0.0.1:0", "--cors-origin", "*"])
        .assert()
        .code(3)
        .stderr(predicates::str::contains("no wildcard"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The ledger file holds the account's orders and fills: only its owner may read it.
#[cfg(unix)]
#[test]
fn the_ledger_file_is_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let s = serve_with("ledger_mode", Some("tk"), &[], &[]);
    let db = s.dir.join("api.db");
    let mode = std::fs::metadata(&db)
        .expect("the ledger")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "{:o}", mode & 0o777);
}
