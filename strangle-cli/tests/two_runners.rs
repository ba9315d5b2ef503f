//! Two `strangle serve` processes on one PostgreSQL ledger, as on two hosts: each runs its
//! own profiles, neither can run a profile the other is running (the profile's lease), and
//! the API of either shows every profile, every session and the analytics of both.
//!
//! Needs the PostgreSQL server at `STRANGLE_TEST_PG_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`; `.ci/run` starts it): the test creates a
//! database of its own there and drops it at the end.

mod common;

use std::time::{Duration, Instant};

use common::serve_on;
use serde_json::{json, Value};
use sqlx::Executor;

fn pg_url() -> String {
    std::env::var("STRANGLE_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A fresh database beside the test one, dropped (connections and all) when this is.
struct Database {
    admin: sqlx::PgPool,
    name: String,
    url: String,
}

impl Database {
    async fn create() -> Self {
        let base = pg_url();
        let admin = sqlx::PgPool::connect(&base).await.unwrap_or_else(|e| {
            panic!("this test needs PostgreSQL at {base} (STRANGLE_TEST_PG_URL): {e}")
        });
        let name = format!("strangle_two_runners_{}", std::process::id());
        admin
            .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
            .await
            .expect("drop an old copy");
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create database");
        let (head, _) = base.rsplit_once('/').expect("a database in the URL");
        let url = format!("{head}/{name}");
        Self { admin, name, url }
    }

    async fn drop_now(self) {
        let _ = self
            .admin
            .execute(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name).as_str())
            .await;
    }
}

struct Api {
    c: reqwest::Client,
    url: String,
    token: &'static str,
}

impl Api {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut r = self
            .c
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(self.token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.expect("the server answers");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> Value {
        let (status, v) = self.call(reqwest::Method::GET, path, None).await;
        assert_eq!(status, 200, "GET {path}: {v}");
        v
    }

    async fn start(&self, id: i64) -> (u16, Value) {
        self.call(
            reqwest::Method::POST,
            "/api/trading/control",
            Some(json!({"action": "start", "configuration_id": id})),
        )
        .await
    }

    async fn stop(&self, id: i64) {
        let _ = self
            .call(
                reqwest::Method::POST,
                "/api/trading/control",
                Some(json!({"action": "stop", "configuration_id": id})),
            )
            .await;
    }
}

/// The profile names of the sessions `api` lists (all modes).
async fn session_profiles(api: &Api) -> Vec<String> {
    let page = api.get("/api/trading/sessions?mode=all&limit=100").await;
    let mut names: Vec<String> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|s| s["profile"].as_str().map(str::to_string))
        .collect();
    names.sort();
    names.dedup();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_share_one_ledger_and_never_run_a_profile_twice() {
    let db = Database::create().await;
    // Both markets start a minute before the 09:30 IST entry window, at 60 simulated
    // seconds per second.
    let sim = ["--sim-start", "2026-03-10T03:59:00Z", "--sim-speed", "60"];
    let (mut a_proc, a_url) = serve_on(&db.url, "token-host-a", &sim);
    let (mut b_proc, b_url) = serve_on(&db.url, "token-host-b", &sim);
    let c = reqwest::Client::new();
    let a = Api {
        c: c.clone(),
        url: a_url,
        token: "token-host-a",
    };
    let b = Api {
        c,
        url: b_url,
        token: "token-host-b",
    };

    // Profiles made through A.
    let mut ids = Vec::new();
    for (name, u) in [("host-a-btc", "BTC"), ("host-b-eth", "ETH")] {
        let (status, v) = a
            .call(
                reqwest::Method::POST,
                "/api/configs",
                Some(
                    json!({"name": name, "underlying": u, "contracts_per_leg": "1",
                            "liquidity": {"max_quote_age_secs": 900}}),
                ),
            )
            .await;
        assert_eq!(status, 201, "{v}");
        ids.push(v["id"].as_i64().expect("id"));
    }
    let (btc, eth) = (ids[0], ids[1]);

    // B lists them too (its profile cache is at most a second old).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let listed = b.get("/api/configs").await;
        if listed.as_array().map(Vec::len) == Some(2) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "B never listed A's profiles: {listed}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A runs the BTC profile; B may not run it as well, but runs the ETH one.
    let (status, v) = a.start(btc).await;
    assert_eq!(status, 200, "{v}");
    let (status, v) = b.start(btc).await;
    assert_eq!(
        status, 409,
        "a profile another process runs is refused: {v}"
    );
    let (status, v) = b.start(eth).await;
    assert_eq!(status, 200, "{v}");
    let (status, v) = a.start(eth).await;
    assert_eq!(status, 409, "and the other way round: {v}");

    // Both enter; each server lists both sessions, whoever ran them.
    let want = vec!["host-a-btc".to_string(), "host-b-eth".to_string()];
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (from_a, from_b) = (session_profiles(&a).await, session_profiles(&b).await);
        if from_a == want && from_b == want {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "sessions seen by A {from_a:?}, by B {from_b:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    for api in [&a, &b] {
        let dash = api.get("/api/analytics/dashboard?mode=all").await;
        assert_eq!(
            dash["recent"].as_array().map(Vec::len),
            Some(2),
            "the dashboard of either shows both sessions: {dash}"
        );
    }

    // Once A stops the BTC profile, B may run it.
    a.stop(btc).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, v) = b.start(btc).await;
        if status == 200 {
            break;
        }
        assert_eq!(status, 409, "{v}");
        assert!(
            Instant::now() < deadline,
            "the lease was never given back: {v}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    b.stop(btc).await;
    b.stop(eth).await;
    a_proc.kill();
    b_proc.kill();
    db.drop_now().await;
}
