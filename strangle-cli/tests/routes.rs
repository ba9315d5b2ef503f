//! The REST API in process: the router `serve` listens with ([`strangle_cli::serve::app`]),
//! over a real SQLite ledger, called with `tower::ServiceExt::oneshot` — one behaviour per
//! test. What needs a process (binding rules, the printed token, engines over real sockets)
//! is in `api.rs`.

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};
use strangle_cli::serve::{app, trading, ApiSettings, App};
use strangle_delta_runtime::SimTime;
use strangle_store::Store;
use tower::ServiceExt;

const TOKEN: &str = "t0k3n";
const HOST: &str = "127.0.0.1:8000";

/// The API over a fresh ledger.
struct Api {
    app: App,
    _dir: common::Dir,
}

/// A reply: status, headers and the body parsed as JSON (`Value::Null` when it is not JSON).
struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    text: String,
    json: Value,
}

async fn api(tag: &str) -> Api {
    api_with(tag, &[]).await
}

async fn api_with(tag: &str, cors_origins: &[&str]) -> Api {
    api_store(tag, cors_origins).await.0
}

/// The API and its ledger (to write sessions the way engines do).
async fn api_store(tag: &str, cors_origins: &[&str]) -> (Api, Arc<Store>) {
    let dir = common::Dir::new(&format!("routes_{tag}"));
    let store = Arc::new(Store::open(&dir.ledger()).await.expect("ledger"));
    let app = app(store.clone(), settings(cors_origins)).expect("the API builds");
    (Api { app, _dir: dir }, store)
}

/// A closed session of `mode` opened on `day` (2026-03-DD) with this net PnL.
fn closed_session(
    id: &str,
    mode: &str,
    day: u32,
    net: &str,
) -> strangle_core::ledger::SessionRecord {
    serde_json::from_value(json!({
        "session_id": id, "profile": "btc", "underlying": "BTC", "mode": mode,
        "trading_day": format!("2026-03-{day:02}"), "state": "closed",
        "opened_at": format!("2026-03-{day:02}T04:00:00Z"), "closed_at": format!("2026-03-{day:02}T09:50:00Z"),
        "expiry": format!("2026-03-{:02}T12:00:00Z", day + 1), "planned_exit": format!("2026-03-{day:02}T09:50:00Z"),
        "entry_spot": "82000", "legs": [], "exit_reason": "exit_time",
        "pnl": {"premium": "10", "gross": net, "fees": "0", "net": net},
        "trailing_level": null, "peak_pnl_pct": null, "trough_pnl_pct": null,
    }))
    .expect("a session record")
}

fn settings(cors_origins: &[&str]) -> ApiSettings {
    ApiSettings {
        token: TOKEN.into(),
        listen: HOST.parse().expect("addr"),
        allow_hosts: Vec::new(),
        cors_origins: cors_origins.iter().map(|o| (*o).to_string()).collect(),
        markets: trading::MarketSettings {
            default: trading::MarketKind::Sim,
            env: strangle_delta::Environment::default(),
            seed: 1,
            sim_time: SimTime::RealTime,
            sim_credentials: strangle_delta_market::demo_credentials(),
            live: None,
            poll: chrono::Duration::seconds(5),
        },
        notifier: None,
    }
}

/// A request to this server's own host, with the token.
fn request(method: Method, path: &str) -> axum::http::request::Builder {
    Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, HOST)
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
}

impl Api {
    async fn send(&self, req: Request<Body>) -> Reply {
        let res = self
            .app
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let body = axum::body::to_bytes(res.into_body(), 16 << 20)
            .await
            .expect("body");
        let text = String::from_utf8_lossy(&body).into_owned();
        let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            text,
            json,
        }
    }

    async fn get(&self, path: &str) -> Reply {
        self.send(request(Method::GET, path).body(Body::empty()).expect("req"))
            .await
    }

    async fn json(&self, method: Method, path: &str, body: &Value) -> Reply {
        self.send(
            request(method, path)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .expect("req"),
        )
        .await
    }

    async fn post(&self, path: &str, body: &Value) -> Reply {
        self.json(Method::POST, path, body).await
    }

    async fn delete(&self, path: &str) -> Reply {
        self.send(
            request(Method::DELETE, path)
                .body(Body::empty())
                .expect("req"),
        )
        .await
    }

    /// Creates a profile and returns its id.
    async fn profile(&self, body: Value) -> i64 {
        let r = self.post("/api/configs", &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.json["id"].as_i64().expect("id")
    }
}

fn field_names(v: &Value) -> Vec<&str> {
    v["fields"]
        .as_array()
        .map(|f| f.iter().filter_map(|f| f["field"].as_str()).collect())
        .unwrap_or_default()
}

/// Every error reply: JSON, with an `error` string.
fn assert_error_shape(r: &Reply) {
    let ct = r
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(ct.contains("json"), "{} {ct}: {}", r.status, r.text);
    assert!(r.json["error"].is_string(), "{}", r.text);
}

// --- the token ---

#[tokio::test]
async fn every_api_route_needs_the_token() {
    let a = api("token").await;
    for path in ["/healthz", "/api/configs", "/metrics", "/api/openapi.json"] {
        let r = a
            .send(
                Request::get(path)
                    .header(header::HOST, HOST)
                    .body(Body::empty())
                    .expect("req"),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_error_shape(&r);
    }
}

#[tokio::test]
async fn a_wrong_token_is_refused() {
    let a = api("wrong_token").await;
    for wrong in [
        "Bearer nope",
        "Bearer t0k3",
        "Bearer t0k3nn",
        "t0k3n",
        "Basic t0k3n",
    ] {
        let r = a
            .send(
                Request::get("/api/configs")
                    .header(header::HOST, HOST)
                    .header(header::AUTHORIZATION, wrong)
                    .body(Body::empty())
                    .expect("req"),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{wrong}");
    }
    assert_eq!(a.get("/healthz").await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_page_loads_without_the_token() {
    let a = api("page").await;
    let r = a
        .send(
            Request::get("/")
                .header(header::HOST, HOST)
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.text.contains("<html"),
        "{}",
        &r.text[..r.text.len().min(200)]
    );
}

// --- profiles ---

#[tokio::test]
async fn an_invalid_profile_lists_every_bad_field_and_stores_nothing() {
    let a = api("invalid_profile").await;
    let r = a
        .post(
            "/api/configs",
            &json!({"name": "", "delta_band": {"low": 0.3, "high": 0.2}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = field_names(&r.json);
    assert!(
        fields.contains(&"name") && fields.contains(&"delta_band"),
        "{}",
        r.text
    );
    assert_eq!(a.get("/api/configs").await.json, json!([]));
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_422_on_the_body() {
    let a = api("not_json").await;
    let r = a
        .send(
            request(Method::POST, "/api/configs")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{not json"))
                .expect("req"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_names(&r.json), ["body"]);
}

#[tokio::test]
async fn a_change_without_a_json_content_type_is_415() {
    let a = api("untyped").await;
    for ct in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data"),
    ] {
        let mut b = request(Method::POST, "/api/configs");
        if let Some(ct) = ct {
            b = b.header(header::CONTENT_TYPE, ct);
        }
        let r = a
            .send(b.body(Body::from("{\"name\": \"x\"}")).expect("req"))
            .await;
        assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{ct:?}");
        assert!(
            r.json["error"]
                .as_str()
                .is_some_and(|e| e.contains("application/json")),
            "{}",
            r.text
        );
    }
    assert_eq!(a.get("/api/configs").await.json, json!([]));
}

#[tokio::test]
async fn creating_a_profile_answers_201_with_its_id_and_defaults() {
    let a = api("create").await;
    let r = a.post("/api/configs", &json!({"name": "btc"})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert!(r.json["id"].is_i64(), "{}", r.text);
    assert_eq!(r.json["profile"]["name"], "btc");
    assert_eq!(r.json["profile"]["underlying"], "BTC");
    assert_eq!(r.json["warnings"], json!([]), "{}", r.text);
    let list = a.get("/api/configs").await;
    assert_eq!(list.json.as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_saved_profile_comes_back_with_its_warnings() {
    let a = api("warnings").await;
    let body = json!({"name": "btc", "max_profit_pct": "0.8", "max_loss_pct": "15"});
    let r = a.post("/api/configs", &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let warnings: Vec<(&str, &str)> = r.json["warnings"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|w| Some((w["field"].as_str()?, w["kind"].as_str()?)))
        .collect();
    // A fraction meant as a percent, and both thresholds within the capped round-trip fees.
    assert_eq!(
        warnings,
        [
            ("max_profit_pct", "fraction_for_percent"),
            ("max_profit_pct", "within_capped_fees"),
            ("max_loss_pct", "within_capped_fees")
        ],
        "{}",
        r.text
    );
    let id = r.json["id"].as_i64().expect("an id");
    let body = json!({"max_profit_pct": "50", "max_loss_pct": "30"});
    let r = a
        .json(Method::PATCH, &format!("/api/configs/{id}"), &body)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["warnings"], json!([]), "{}", r.text);
}

#[tokio::test]
async fn a_duplicate_name_is_409() {
    let a = api("duplicate").await;
    a.profile(json!({"name": "btc"})).await;
    let r = a.post("/api/configs", &json!({"name": "btc"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_error_shape(&r);
}

#[tokio::test]
async fn an_unknown_profile_is_404() {
    let a = api("unknown_profile").await;
    for r in [
        a.get("/api/configs/999").await,
        a.json(Method::PUT, "/api/configs/999", &json!({"name": "x"}))
            .await,
        a.json(Method::PATCH, "/api/configs/999", &json!({"name": "x"}))
            .await,
        a.delete("/api/configs/999").await,
        a.post("/api/configs/999/activate", &json!({})).await,
    ] {
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
        assert_error_shape(&r);
    }
}

#[tokio::test]
async fn a_profile_id_that_is_not_a_number_is_a_json_400() {
    let a = api("bad_id").await;
    let r = a.get("/api/configs/abc").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_error_shape(&r);
}

#[tokio::test]
async fn an_update_is_validated_then_stored() {
    let a = api("update").await;
    let id = a.profile(json!({"name": "btc"})).await;
    let path = format!("/api/configs/{id}");
    let r = a
        .json(Method::PATCH, &path, &json!({"contracts_per_leg": "0"}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_names(&r.json), ["contracts_per_leg"]);
    assert_eq!(a.get(&path).await.json["profile"]["contracts_per_leg"], "1");
    let r = a
        .json(Method::PATCH, &path, &json!({"contracts_per_leg": "4"}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json["profile"]["contracts_per_leg"], "4");
    assert_eq!(a.get(&path).await.json["profile"]["contracts_per_leg"], "4");
}

#[tokio::test]
async fn patch_merges_put_replaces_the_whole_profile() {
    let a = api("patch_put").await;
    let id = a
        .profile(json!({
            "name": "eth",
            "underlying": "ETH",
            "max_loss_pct": "40",
            "delta_band": {"low": 0.05, "high": 0.08},
            "fees": {"taker_rate_pct": "0.05"},
        }))
        .await;
    let path = format!("/api/configs/{id}");
    let before = a.get(&path).await.json["profile"].clone();
    // Nested objects take defaults for what they leave out, as `execution` always did.
    assert_eq!(before["fees"]["taker_rate_pct"], "0.05");
    assert_eq!(before["fees"]["tax_pct"], "18");

    // PATCH: only the fields given change, nested objects field by field.
    let r = a
        .json(
            Method::PATCH,
            &path,
            &json!({"delta_band": {"high": 0.09}, "max_profit_pct": null}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let after = a.get(&path).await.json["profile"].clone();
    assert_eq!(after["underlying"], "ETH");
    assert_eq!(after["max_loss_pct"], "40");
    assert_eq!(after["delta_band"], json!({"low": 0.05, "high": 0.09}));
    assert_eq!(after["fees"], before["fees"]);
    assert_eq!(after["max_profit_pct"], "off", "null turns a limit off");

    // PUT with part of a profile: 422 naming every missing field, nothing changed.
    let r = a
        .json(
            Method::PUT,
            &path,
            &json!({"name": "eth", "delta_band": {"low": 0.05}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let missing = field_names(&r.json);
    for f in [
        "underlying",
        "max_loss_pct",
        "delta_band.high",
        "fees",
        "execution",
    ] {
        assert!(missing.contains(&f), "{f} in {missing:?}");
    }
    assert!(!missing.contains(&"name") && !missing.contains(&"delta_band.low"));
    assert_eq!(a.get(&path).await.json["profile"], after);

    // PUT with the whole profile replaces it.
    let mut whole = after.clone();
    whole["contracts_per_leg"] = json!("3");
    let r = a.json(Method::PUT, &path, &whole).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(a.get(&path).await.json["profile"], whole);

    // A JSON array (or anything but an object) is not a profile, for any method.
    for (method, url) in [
        (Method::POST, "/api/configs".to_string()),
        (Method::PUT, path.clone()),
        (Method::PATCH, path.clone()),
    ] {
        let r = a.json(method.clone(), &url, &json!([{"name": "x"}])).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{method}");
        assert!(
            r.text.contains("a profile is a JSON object, not an array"),
            "{}",
            r.text
        );
    }
}

#[tokio::test]
async fn the_active_profile_cannot_be_deleted() {
    let a = api("active").await;
    let id = a.profile(json!({"name": "btc"})).await;
    let r = a
        .post(&format!("/api/configs/{id}/activate"), &json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json["active"], true, "{}", r.text);
    let r = a.delete(&format!("/api/configs/{id}")).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(
        a.get(&format!("/api/configs/{id}")).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_deleted_profile_is_gone() {
    let a = api("delete").await;
    let id = a.profile(json!({"name": "eth", "underlying": "ETH"})).await;
    let path = format!("/api/configs/{id}");
    let r = a.delete(&path).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(r.text.is_empty());
    assert_eq!(a.delete(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(a.get(&path).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_defaults_are_a_profile_without_a_name() {
    let a = api("defaults").await;
    let r = a.get("/api/configs/defaults").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json["name"], "");
    assert_eq!(r.json["underlying"], "BTC");
}

// --- sessions and analytics ---

#[tokio::test]
async fn an_empty_ledger_has_an_empty_page_of_sessions() {
    let a = api("empty_sessions").await;
    let r = a.get("/api/trading/sessions?limit=10").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json["total"], 0);
    assert_eq!(r.json["items"], json!([]));
}

#[tokio::test]
async fn a_malformed_session_filter_is_422() {
    let a = api("bad_filter").await;
    for path in [
        "/api/trading/sessions?limit=0",
        "/api/trading/sessions?limit=1001",
        "/api/trading/sessions?offset=-1",
        "/api/trading/sessions?state=weird",
        "/api/trading/sessions?from=yesterday",
        "/api/trading/sessions?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z",
        "/api/analytics/history?limit=x",
        "/api/analytics/dashboard?limit=0",
        "/api/trading/sessions/export?format=xml",
    ] {
        let r = a.get(path).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        assert_error_shape(&r);
    }
}

#[tokio::test]
async fn an_unknown_session_is_404() {
    let a = api("unknown_session").await;
    let r = a.get("/api/trading/sessions/nope").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.json["error"].as_str().is_some_and(|e| e.contains("nope")));
}

#[tokio::test]
async fn the_export_is_csv_with_a_header_row() {
    let a = api("export").await;
    let r = a.get("/api/trading/sessions/export?format=csv").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers[header::CONTENT_TYPE]
        .to_str()
        .expect("ct")
        .starts_with("text/csv"));
    assert!(r.headers[header::CONTENT_DISPOSITION]
        .to_str()
        .expect("cd")
        .contains("sessions.csv"));
    assert!(r.text.starts_with("session_id,"), "{}", r.text);
}

#[tokio::test]
async fn analytics_and_history_read_one_mode_unless_asked_for_all() {
    use strangle_core::Ledger;
    let (a, store) = api_store("modes", &[]).await;
    for s in [
        closed_session("s1", "sim", 2, "5"),
        closed_session("s2", "sim", 3, "-1"),
        closed_session("p1", "paper", 4, "2"),
    ] {
        store.upsert_session(&s).await.expect("written");
    }
    // Paper beats sim by default (live would beat both): never a mix.
    let r = a.get("/api/analytics/history").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        (r.json["mode"].clone(), r.json["sessions"].clone()),
        (json!("paper"), json!(1))
    );
    assert_eq!(r.json["net"], "2");
    let r = a.get("/api/analytics/history?mode=sim").await;
    assert_eq!(
        (r.json["mode"].clone(), r.json["sessions"].clone()),
        (json!("sim"), json!(2))
    );
    assert_eq!(r.json["net"], "4");
    let r = a.get("/api/analytics/history?mode=all").await;
    assert_eq!(
        (r.json["mode"].clone(), r.json["sessions"].clone()),
        (json!(null), json!(3))
    );
    let r = a.get("/api/analytics/history?mode=live").await;
    assert_eq!(r.json["sessions"], 0);
    // The session list and the export say which mode they cover.
    let r = a.get("/api/trading/sessions").await;
    assert_eq!(r.json["total"], 1);
    assert_eq!(r.json["items"][0]["mode"], "paper");
    let r = a.get("/api/trading/sessions?mode=sim").await;
    assert_eq!(r.json["total"], 2);
    let r = a.get("/api/analytics/dashboard?mode=all").await;
    assert_eq!(r.json["mode"], json!(null));
    assert_eq!(r.json["recent"].as_array().map(Vec::len), Some(3));
    let r = a.get("/api/trading/sessions/export?mode=sim").await;
    assert_eq!(
        r.text.lines().count(),
        3,
        "a header and two rows: {}",
        r.text
    );
    // A mode that does not exist is a 422 naming the choices.
    let r = a.get("/api/analytics/history?mode=demo").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text.contains("live") && r.text.contains("all"),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn a_sessions_marks_come_thinned_with_its_exit_levels() {
    use strangle_core::Ledger;
    let (a, store) = api_store("marks", &[]).await;
    a.profile(json!({"name": "btc", "max_loss_pct": "40", "max_profit_pct": "50"}))
        .await;
    let s = closed_session("m1", "sim", 2, "1");
    store.upsert_session(&s).await.expect("session");
    for i in 0..300i64 {
        let net = rust_decimal::Decimal::new(i - 150, 2);
        let m = strangle_core::ledger::PnlMark {
            session_id: s.session_id.clone(),
            at: s.opened_at + chrono::Duration::minutes(i),
            pnl: strangle_core::pnl::SessionPnl {
                premium: rust_decimal::Decimal::TEN,
                net,
                ..Default::default()
            },
            close_now_net: Some(net - rust_decimal::Decimal::ONE),
            trailing_level: None,
            spot: None,
        };
        store.record_mark(&m).await.expect("mark");
    }
    let r = a.get("/api/trading/sessions/m1/marks?points=40").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["total"], 300);
    let marks = r.json["marks"].as_array().expect("marks");
    assert!(marks.len() <= 40 && marks.len() >= 20, "{}", marks.len());
    assert_eq!(marks[0]["pnl"]["net"], "-1.50");
    assert_eq!(marks[marks.len() - 1]["pnl"]["net"], "1.49");
    assert_eq!(marks[0]["close_now_net"], "-2.50");
    // 40 % and 50 % of the 10 USD premium.
    assert_eq!(
        r.json["levels"],
        json!({"max_loss_usd": "-4", "max_profit_usd": "5"})
    );
    assert_eq!(r.json["mode"], "sim");
    let r = a.get("/api/trading/sessions/m1/marks").await;
    assert_eq!(r.json["marks"].as_array().map(Vec::len), Some(300));
    for (path, status) in [
        ("/api/trading/sessions/nope/marks", StatusCode::NOT_FOUND),
        (
            "/api/trading/sessions/m1/marks?points=1",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/trading/sessions/m1/marks?pts=9",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let r = a.get(path).await;
        assert_eq!(r.status, status, "{path}: {}", r.text);
        assert_error_shape(&r);
    }
}

#[tokio::test]
async fn the_original_platforms_configurations_are_imported_with_every_mapping_named() {
    let a = api("seed").await;
    let seed: Value =
        serde_json::from_str(include_str!("../../examples/seed/original-configs.json"))
            .expect("the example export");
    // A dry run reads and reports, and stores nothing.
    let r = a
        .post(
            "/api/configs/import",
            &json!({"from_seed": seed, "dry_run": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["imported"].as_array().map(Vec::len), Some(2));
    assert_eq!(r.json["imported"][0]["id"], Value::Null);
    assert_eq!(a.get("/api/configs").await.json, json!([]));
    // Stored: the active one made active, a fraction read as a percent, a fixed expiry named
    // as not carried.
    let r = a
        .post("/api/configs/import", &json!({"from_seed": seed}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let first = &r.json["imported"][0];
    assert_eq!(
        (first["profile"]["name"].clone(), first["active"].clone()),
        (json!("btc-daily"), json!(true))
    );
    assert_eq!(first["profile"]["max_loss_pct"], "40");
    let notes = r.json["imported"][1]["notes"].as_array().expect("notes");
    assert!(
        notes
            .iter()
            .any(|n| n["from"] == "expiry_date" && n["kind"] == "not_carried"),
        "{notes:?}"
    );
    assert!(notes
        .iter()
        .any(|n| n["from"] == "max_profit_pct" && n["kind"] == "converted"));
    assert_eq!(
        a.get("/api/configs").await.json.as_array().map(Vec::len),
        Some(2)
    );
    // Importing again replaces by name: no new profile, same ids.
    let again = a
        .post("/api/configs/import", &json!({"from_seed": seed}))
        .await;
    assert_eq!(again.json["imported"][0]["id"], first["id"]);
    // One bad configuration refuses all, naming each problem by configuration and field.
    let r = a
        .post(
            "/api/configs/import",
            &json!({"from_seed": [{"name": "ok"}, {"name": "bad", "underlying": "SOL", "quantity": 0}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let fields = field_names(&r.json);
    assert!(
        fields.contains(&"bad: underlying") && fields.contains(&"bad: quantity"),
        "{fields:?}"
    );
    assert!(a
        .get("/api/configs")
        .await
        .json
        .as_array()
        .expect("list")
        .iter()
        .all(|p| p["profile"]["name"] != "ok"));
    // The flag is required: a bare configuration is not guessed at.
    let r = a.post("/api/configs/import", &json!({"name": "x"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn unknown_query_parameters_are_422_naming_them() {
    let a = api("unknown_params").await;
    let id = a.profile(json!({"name": "btc"})).await;
    for (path, name) in [
        ("/api/trading/sessions?page=2".to_string(), "page"),
        ("/api/analytics/history?modes=live".to_string(), "modes"),
        ("/api/analytics/dashboard?prfile=btc".to_string(), "prfile"),
        ("/api/trading/heartbeat?id=1".to_string(), "id"),
        ("/api/trading/runtime?config=1".to_string(), "config"),
        ("/api/configs?page=2".to_string(), "page"),
        (format!("/api/configs/{id}?verbose=1"), "verbose"),
        ("/api/configs/defaults?x".to_string(), "x"),
        ("/api/trading/sessions/nope?full=1".to_string(), "full"),
    ] {
        let r = a.get(&path).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}: {}",
            r.text
        );
        assert!(r.text.contains(name), "{path}: {}", r.text);
        assert_error_shape(&r);
    }
    let r = a
        .post(&format!("/api/configs/{id}/activate?now=1"), &json!({}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(!a.get(&format!("/api/configs/{id}")).await.json["active"]
        .as_bool()
        .unwrap_or(true));
}

/// Issue 31: the original platform's clients page sessions with `page`/`page_size` and
/// range analytics with `start`/`end`; the 422 names this API's parameters.
#[tokio::test]
async fn the_original_platform_s_parameters_get_this_api_s_names() {
    let a = api("original_params").await;
    for (path, hints) in [
        (
            "/api/trading/sessions?page=2&page_size=50",
            &["use offset", "use limit"][..],
        ),
        (
            "/api/analytics/history?start=2026-03-01&end=2026-03-31",
            &["use from", "use to"][..],
        ),
    ] {
        let r = a.get(path).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        for h in hints {
            assert!(r.text.contains(h), "{path}: {}", r.text);
        }
        assert_error_shape(&r);
    }
}

#[tokio::test]
async fn analytics_of_an_empty_ledger_count_nothing() {
    let a = api("analytics").await;
    let r = a.get("/api/analytics/history").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json["sessions"], 0);
    let r = a.get("/api/analytics/dashboard").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json["today_sessions"], 0);
    assert_eq!(r.json["engines"], json!([]));
}

// --- trading control ---

#[tokio::test]
async fn a_control_request_lists_every_bad_field_and_starts_nothing() {
    let a = api("control_fields").await;
    let r = a
        .post(
            "/api/trading/control",
            &json!({"action": "launch", "configuration_id": "one", "x": 1, "market": "moon"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut fields = field_names(&r.json);
    fields.sort_unstable();
    assert_eq!(fields, ["action", "configuration_id", "market", "x"]);
    let r = a.post("/api/trading/control", &json!({})).await;
    assert_eq!(field_names(&r.json), ["action", "configuration_id"]);
    let r = a.post("/api/trading/control", &json!([1])).await;
    assert_eq!(field_names(&r.json), ["body"]);
    assert_eq!(
        a.get("/api/trading/heartbeat").await.json["engines"],
        json!([])
    );
}

#[tokio::test]
async fn only_start_takes_a_market() {
    let a = api("control_market").await;
    let id = a.profile(json!({"name": "btc"})).await;
    let r = a
        .post(
            "/api/trading/control",
            &json!({"action": "stop", "configuration_id": id, "market": "sim"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_names(&r.json), ["market"]);
}

#[tokio::test]
async fn starting_an_unknown_profile_is_404() {
    let a = api("control_unknown").await;
    let r = a
        .post(
            "/api/trading/control",
            &json!({"action": "start", "configuration_id": 999}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn stopping_a_profile_that_is_not_running_is_409() {
    let a = api("control_idle").await;
    let id = a.profile(json!({"name": "btc"})).await;
    for action in ["stop", "panic", "restart"] {
        let r = a
            .post(
                "/api/trading/control",
                &json!({"action": action, "configuration_id": id}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{action}");
        assert!(
            r.json["error"]
                .as_str()
                .is_some_and(|e| e.contains("not running")),
            "{}",
            r.text
        );
    }
}

#[tokio::test]
async fn live_is_403_unless_the_server_was_started_with_live() {
    let a = api("control_live").await;
    let id = a.profile(json!({"name": "btc"})).await;
    let r = a
        .post(
            "/api/trading/control",
            &json!({"action": "start", "configuration_id": id, "market": "live"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.json["error"]
        .as_str()
        .is_some_and(|e| e.contains("--live")));
    assert_eq!(
        a.get("/api/trading/heartbeat").await.json["engines"],
        json!([])
    );
}

#[tokio::test]
async fn an_idle_profile_has_an_idle_heartbeat_and_a_schedule() {
    let a = api("idle").await;
    let id = a.profile(json!({"name": "btc"})).await;
    let r = a
        .get(&format!("/api/trading/heartbeat?configuration_id={id}"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json["engines"][0]["status"], "idle");
    let r = a
        .get(&format!("/api/trading/runtime?configuration_id={id}"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json["engines"][0]["schedule"]["entry_time_ist"], "09:30");
    assert!(r.json["engines"][0]["schedule"]["next_entry"].is_string());
}

#[tokio::test]
async fn engine_reads_of_an_unknown_or_malformed_id() {
    let a = api("engine_reads").await;
    for (path, code) in [
        ("/api/trading/heartbeat?configuration_id=999", 404),
        ("/api/trading/heartbeat?configuration_id=x", 422),
        ("/api/trading/runtime?configuration_id=999", 404),
        ("/api/trading/runtime?configuration_id=1.5", 422),
        ("/api/trading/runtime", 200),
        ("/api/trading/heartbeat", 200),
    ] {
        let r = a.get(path).await;
        assert_eq!(r.status.as_u16(), code, "{path}: {}", r.text);
    }
}

#[tokio::test]
async fn a_started_profile_cannot_start_twice_and_a_running_one_cannot_change() {
    let a = api("start_twice").await;
    let id = a.profile(json!({"name": "btc"})).await;
    let start = json!({"action": "start", "configuration_id": id});
    let r = a.post("/api/trading/control", &start).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["heartbeat"]["mode"], "sim");
    assert_eq!(
        a.post("/api/trading/control", &start).await.status,
        StatusCode::CONFLICT
    );
    let path = format!("/api/configs/{id}");
    let r = a.json(Method::PATCH, &path, &json!({"name": "btc2"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(a.delete(&path).await.status, StatusCode::CONFLICT);
    a.app.trading.stop_all().await;
    assert!(a.app.trading.running_ids().await.is_empty());
    let r = a.json(Method::PATCH, &path, &json!({"name": "btc2"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

#[tokio::test]
async fn a_start_request_can_set_the_simulated_markets_clock() {
    let a = api("sim_clock").await;
    let id = a.profile(json!({"name": "btc"})).await;
    // Bad clocks are refused, naming the field; nothing starts.
    for (body, field) in [
        (
            json!({"action": "start", "configuration_id": id, "sim_speed": 0}),
            "sim_speed",
        ),
        (
            json!({"action": "start", "configuration_id": id, "sim_start": "soon"}),
            "sim_start",
        ),
    ] {
        let r = a.post("/api/trading/control", &body).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
        assert_eq!(field_names(&r.json), [field]);
    }
    let r = a
        .post(
            "/api/trading/control",
            &json!({"action": "start", "configuration_id": id, "market": "paper",
                    "sim_start": "2026-03-10T03:59:00Z"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(a.app.trading.running_ids().await.is_empty());

    // A minute before the 09:30 IST window, 60x: every time the engine reports is on it.
    let r = a
        .post(
            "/api/trading/control",
            &json!({"action": "start", "configuration_id": id,
                    "sim_start": "2026-03-10T03:59:00Z", "sim_speed": 60}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let hb = &r.json["heartbeat"];
    assert_eq!(hb["market_speed"], 60.0);
    let market: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(hb["market_time"].clone()).expect("a market time");
    let started: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(hb["started_at"].clone()).expect("a start time");
    let at = |s: &str| s.parse::<chrono::DateTime<chrono::Utc>>().expect("time");
    assert!(
        market >= at("2026-03-10T03:59:00Z") && market < at("2026-03-10T05:00:00Z"),
        "{market}"
    );
    assert!(
        started >= at("2026-03-10T03:59:00Z") && started < at("2026-03-10T05:00:00Z"),
        "{started}"
    );
    // The server itself has no simulated clock here (it runs on the wall clock).
    let r = a.get("/api/trading/heartbeat").await;
    assert_eq!(r.json["market_time"], Value::Null);
    assert_eq!(r.json["engines"][0]["market_speed"], 60.0);
    let r = a
        .post(
            "/api/trading/control",
            &json!({"action": "stop", "configuration_id": id, "sim_speed": 5}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    a.app.trading.stop_all().await;
}

// --- the guard: hosts, origins, CORS ---

#[tokio::test]
async fn a_foreign_host_is_refused_even_for_reads() {
    let a = api("rebinding").await;
    for path in ["/", "/api/configs", "/api/trading/heartbeat", "/healthz"] {
        let r = a
            .send(
                Request::get(path)
                    .header(header::HOST, "rebind.evil.example")
                    .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
                    .body(Body::empty())
                    .expect("req"),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
        assert!(r.json["error"].as_str().is_some_and(|e| e.contains("host")));
    }
}

#[tokio::test]
async fn a_foreign_origin_may_not_change_anything_even_with_the_token() {
    let a = api("origin").await;
    for origin in ["http://evil.example", "null", "http://127.0.0.1:9999"] {
        let r = a
            .send(
                request(Method::POST, "/api/configs")
                    .header(header::ORIGIN, origin)
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(r#"{"name": "from-a-page"}"#))
                    .expect("req"),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{origin}");
    }
    // A simple (unpreflighted) request a page can send without the token: refused first.
    let r = a
        .send(
            Request::post("/api/trading/control")
                .header(header::HOST, HOST)
                .header(header::ORIGIN, "http://evil.example")
                .header(header::CONTENT_TYPE, "text/plain")
                .body(Body::from(r#"{"action":"start","configuration_id":1}"#))
                .expect("req"),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(a.get("/api/configs").await.json, json!([]));
}

#[tokio::test]
async fn the_servers_own_origin_may_change_things() {
    let a = api("own_origin").await;
    let r = a
        .send(
            request(Method::POST, "/api/configs")
                .header(header::ORIGIN, format!("http://{HOST}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(r#"{"name": "own"}"#))
                .expect("req"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}

fn preflight(origin: &str) -> Request<Body> {
    Request::builder()
        .method(Method::OPTIONS)
        .uri("/api/configs")
        .header(header::HOST, HOST)
        .header(header::ORIGIN, origin)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            "authorization, content-type",
        )
        .body(Body::empty())
        .expect("req")
}

#[tokio::test]
async fn without_named_origins_no_cors_header_is_sent() {
    let a = api("cors_none").await;
    let r = a.send(preflight("http://evil.example")).await;
    assert!(r.headers.get("access-control-allow-origin").is_none());
    let r = a
        .send(
            request(Method::GET, "/api/configs")
                .header(header::ORIGIN, "http://evil.example")
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert!(r.headers.get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn a_named_origin_is_echoed_and_others_are_not() {
    let a = api_with("cors_named", &["http://ops.example:8080"]).await;
    let r = a.send(preflight("http://ops.example:8080")).await;
    assert!(r.status.is_success(), "{}", r.status);
    assert_eq!(
        r.headers["access-control-allow-origin"],
        "http://ops.example:8080"
    );
    let r = a.send(preflight("http://evil.example")).await;
    assert!(r.headers.get("access-control-allow-origin").is_none());
    // CORS does not replace the token.
    let r = a
        .send(
            Request::get("/api/configs")
                .header(header::HOST, HOST)
                .header(header::ORIGIN, "http://ops.example:8080")
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_wildcard_or_a_path_is_not_an_origin() {
    let dir = common::Dir::new("routes_cors_wild");
    let store = Arc::new(Store::open(&dir.ledger()).await.expect("ledger"));
    for bad in [
        "*",
        "https://*.example.com",
        "https://ops.example/app",
        "ops.example",
    ] {
        match app(store.clone(), settings(&[bad])) {
            Err(strangle_cli::error::CliError::Invalid(m)) => {
                assert!(m.contains("--cors-origin"), "{m}");
            }
            Err(e) => panic!("{bad}: {e}"),
            Ok(_) => panic!("{bad} accepted"),
        }
    }
}

// --- errors made outside the routes ---

#[tokio::test]
async fn an_unknown_endpoint_is_a_json_404() {
    let a = api("fallback").await;
    let r = a.get("/api/nothing").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json["error"], "no such endpoint");
}

#[tokio::test]
async fn a_wrong_method_is_a_json_405_with_allow() {
    let a = api("method").await;
    let r = a.json(Method::PATCH, "/api/configs", &json!({})).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_error_shape(&r);
    let allow = r.headers[header::ALLOW].to_str().expect("allow");
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_json_413() {
    let a = api("too_large").await;
    let r = a
        .send(
            request(Method::POST, "/api/configs")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(format!(
                    "{{\"name\": \"{}\"}}",
                    "x".repeat(3 << 20)
                )))
                .expect("req"),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_error_shape(&r);
}

// --- the OpenAPI document ---

const DOCUMENTED: [&str; 20] = [
    "/api/analytics/dashboard",
    "/api/analytics/history",
    "/api/configs",
    "/api/configs/defaults",
    "/api/configs/import",
    "/api/configs/{id}",
    "/api/configs/{id}/activate",
    "/api/openapi.json",
    "/api/risk",
    "/api/risk/limits",
    "/api/risk/reset",
    "/api/trading/control",
    "/api/trading/heartbeat",
    "/api/trading/runtime",
    "/api/trading/sessions",
    "/api/trading/sessions/export",
    "/api/trading/sessions/{id}",
    "/api/trading/sessions/{id}/marks",
    "/healthz",
    "/metrics",
];

#[tokio::test]
async fn the_openapi_document_lists_every_route_and_nothing_else() {
    let a = api("openapi_paths").await;
    let doc = a.get("/api/openapi.json").await.json;
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    let mut listed: Vec<&str> = doc["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .map(String::as_str)
        .collect();
    listed.sort_unstable();
    assert_eq!(listed, DOCUMENTED);
}

#[tokio::test]
async fn every_documented_operation_is_served() {
    let a = api("openapi_served").await;
    a.profile(json!({"name": "btc"})).await;
    let doc = a.get("/api/openapi.json").await.json;
    for (path, ops) in doc["paths"].as_object().expect("paths") {
        for method in ops.as_object().expect("ops").keys() {
            let url = path.replace("{id}", "1");
            let r = match method.as_str() {
                "get" => a.get(&url).await,
                "post" => a.post(&url, &json!({})).await,
                "put" => a.json(Method::PUT, &url, &json!({})).await,
                "patch" => a.json(Method::PATCH, &url, &json!({})).await,
                "delete" => a.delete(&url).await,
                other => panic!("unexpected method {other}"),
            };
            assert_ne!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert_ne!(
                r.json["error"], "no such endpoint",
                "{method} {path} is documented but not served"
            );
            assert!(
                r.status.as_u16() < 500,
                "{method} {path}: {} {}",
                r.status,
                r.text
            );
        }
    }
    a.app.trading.stop_all().await;
}

#[tokio::test]
async fn the_openapi_document_states_the_real_contract() {
    let a = api("openapi_contract").await;
    let doc = a.get("/api/openapi.json").await.json;
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    for name in [
        "Profile",
        "Status",
        "SessionRecord",
        "Heartbeat",
        "Runtime",
        "ErrorBody",
        "ControlRequest",
        "Analytics",
    ] {
        assert!(schemas.contains_key(name), "schema {name} missing");
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    // 401 everywhere but /healthz, 415 on changes, a required name, the export's one format.
    for (path, ops) in doc["paths"].as_object().expect("paths") {
        for (method, op) in ops.as_object().expect("ops") {
            let codes = op["responses"].as_object().expect("responses");
            assert_eq!(
                codes.contains_key("401"),
                path != "/healthz",
                "{method} {path}"
            );
            assert_eq!(
                codes.contains_key("415"),
                method != "get",
                "{method} {path}"
            );
        }
    }
    let required = doc["components"]["schemas"]["Profile"]["required"]
        .as_array()
        .expect("required fields");
    assert!(required.iter().any(|f| f == "name"), "{required:?}");
    let format = doc["paths"]["/api/trading/sessions/export"]["get"]["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .find(|p| p["name"] == "format")
        .expect("format")
        .to_string();
    assert!(format.contains("\"enum\":[\"csv\"]"), "{format}");
}

#[tokio::test]
async fn metrics_are_openmetrics_text() {
    let a = api("metrics").await;
    a.get("/api/configs").await;
    let r = a.get("/metrics").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers[header::CONTENT_TYPE]
        .to_str()
        .expect("ct")
        .starts_with("application/openmetrics-text"));
    assert!(r.text.ends_with("# EOF\n"), "{}", r.text);
}
