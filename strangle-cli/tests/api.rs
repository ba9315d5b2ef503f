//! The REST API of `strangle serve`, over real TCP: every endpoint, status code and the token.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};

struct Server {
    child: Child,
    url: String,
    dir: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn serve(token: Option<&str>) -> Server {
    let dir = std::env::temp_dir().join(format!("strangle_api_{}", std::process::id()));
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
    .stdout(Stdio::piped())
    .env_remove("STRANGLE_API_TOKEN");
    if let Some(t) = token {
        cmd.env("STRANGLE_API_TOKEN", t);
    }
    let mut child = cmd.spawn().expect("serve starts");
    let line = BufReader::new(child.stdout.take().expect("stdout"))
        .lines()
        .next()
        .expect("a line")
        .expect("text");
    let url = line.rsplit(' ').next().expect("url").to_string();
    Server { child, url, dir }
}

#[tokio::test]
async fn profiles_sessions_analytics_and_the_token() {
    let s = serve(Some("t0k3n"));
    let c = reqwest::Client::new();
    let get = |path: &str| c.get(format!("{}{path}", s.url)).bearer_auth("t0k3n");

    // Without the token (or with a wrong one), every request is rejected.
    assert_eq!(
        c.get(format!("{}/healthz", s.url))
            .send()
            .await
            .expect("send")
            .status(),
        401
    );
    assert_eq!(
        c.get(format!("{}/api/configs", s.url))
            .bearer_auth("nope")
            .send()
            .await
            .expect("send")
            .status(),
        401
    );
    assert_eq!(get("/healthz").send().await.expect("send").status(), 200);

    // Invalid input: 422 with every field, and nothing changes.
    let bad = json!({"name": "", "delta_band": {"low": 0.3, "high": 0.2}});
    let r = c
        .post(format!("{}/api/configs", s.url))
        .bearer_auth("t0k3n")
        .json(&bad)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 422);
    let v: Value = r.json().await.expect("json");
    let fields: Vec<&str> = v["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["field"].as_str())
        .collect();
    assert!(
        fields.contains(&"name") && fields.contains(&"delta_band"),
        "{v}"
    );
    let r = c
        .post(format!("{}/api/configs", s.url))
        .bearer_auth("t0k3n")
        .body("{not json")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 422);
    let list: Value = get("/api/configs")
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(list, json!([]));

    // Create, conflict, read, update, activate, delete.
    let r = c
        .post(format!("{}/api/configs", s.url))
        .bearer_auth("t0k3n")
        .json(&json!({"name": "btc"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.expect("json")["id"]
        .as_i64()
        .expect("id");
    let r = c
        .post(format!("{}/api/configs", s.url))
        .bearer_auth("t0k3n")
        .json(&json!({"name": "btc"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 409);
    assert_eq!(
        get(&format!("/api/configs/{id}"))
            .send()
            .await
            .expect("send")
            .status(),
        200
    );
    assert_eq!(
        get("/api/configs/999").send().await.expect("send").status(),
        404
    );
    let r = c
        .put(format!("{}/api/configs/{id}", s.url))
        .bearer_auth("t0k3n")
        .json(&json!({"name": "btc", "contracts_per_leg": "0"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 422);
    let r = c
        .put(format!("{}/api/configs/{id}", s.url))
        .bearer_auth("t0k3n")
        .json(&json!({"name": "btc", "contracts_per_leg": "4"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.expect("json")["profile"]["contracts_per_leg"],
        "4"
    );
    let r = c
        .post(format!("{}/api/configs/{id}/activate", s.url))
        .bearer_auth("t0k3n")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    assert_eq!(
        c.delete(format!("{}/api/configs/{id}", s.url))
            .bearer_auth("t0k3n")
            .send()
            .await
            .expect("send")
            .status(),
        409
    );
    let r = c
        .post(format!("{}/api/configs", s.url))
        .bearer_auth("t0k3n")
        .json(&json!({"name": "eth", "underlying": "ETH"}))
        .send()
        .await
        .expect("send");
    let eth = r.json::<Value>().await.expect("json")["id"]
        .as_i64()
        .expect("id");
    assert_eq!(
        c.delete(format!("{}/api/configs/{eth}", s.url))
            .bearer_auth("t0k3n")
            .send()
            .await
            .expect("send")
            .status(),
        204
    );
    assert_eq!(
        c.delete(format!("{}/api/configs/{eth}", s.url))
            .bearer_auth("t0k3n")
            .send()
            .await
            .expect("send")
            .status(),
        404
    );

    // Sessions and analytics (an empty ledger).
    let page: Value = get("/api/trading/sessions?limit=10")
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(page["total"], 0);
    assert_eq!(
        get("/api/trading/sessions?limit=0")
            .send()
            .await
            .expect("send")
            .status(),
        422
    );
    assert_eq!(
        get("/api/trading/sessions?state=weird")
            .send()
            .await
            .expect("send")
            .status(),
        422
    );
    assert_eq!(
        get("/api/trading/sessions/nope")
            .send()
            .await
            .expect("send")
            .status(),
        404
    );
    let r = get("/api/trading/sessions/export?format=csv")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .expect("ct")
        .starts_with("text/csv"));
    assert!(r.text().await.expect("text").starts_with("session_id,"));
    assert_eq!(
        get("/api/trading/sessions/export?format=xml")
            .send()
            .await
            .expect("send")
            .status(),
        422
    );
    let a: Value = get("/api/analytics/history")
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(a["sessions"], 0);
    assert_eq!(
        get("/api/nothing").send().await.expect("send").status(),
        404
    );
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
