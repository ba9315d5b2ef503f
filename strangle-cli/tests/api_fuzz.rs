//! Property-based testing of `strangle serve` from its own OpenAPI document: for every
//! operation the document lists, seeded random requests — path and query parameters of the
//! declared names with hostile values, JSON bodies built from the declared schema's
//! properties with values of every type, mutated valid bodies, and bodies that are not JSON.
//! No answer may be a 5xx, and a rejected request (4xx) must change nothing: the profiles
//! and the engines are compared before and after each one.
//!
//! `STRANGLE_API_FUZZ_CASES` sets the requests per operation (default 150; the full
//! reliability run uses 2,000); `STRANGLE_API_FUZZ_SEED` the seed (default 1).

mod common;

use common::{serve, Dir};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};

const TOKEN: &str = "fuzz-token";

fn any_value(rng: &mut StdRng, depth: u32) -> Value {
    match rng.random_range(0..if depth > 1 { 8 } else { 10 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.random()),
        2 => json!(rng.random::<i64>()),
        3 => json!([0, 1, -1, i64::MAX, i64::MIN][rng.random_range(0..5)]),
        4 => json!(rng.random::<f64>() * 10f64.powi(rng.random_range(-3..12))),
        5 => json!(
            [
                "",
                " ",
                "0",
                "-1",
                "1e400",
                "NaN",
                "09:30",
                "25:99",
                "BTC",
                "delta",
                "start",
                "ütf-8 ✓",
                "'; DROP TABLE profiles; --",
                "../../etc/passwd",
                "%00"
            ][rng.random_range(0..15)]
        ),
        6 => Value::String(
            (0..rng.random_range(0..40))
                .map(|_| rng.random::<char>())
                .collect(),
        ),
        7 => json!(rng.random_range(0..5).to_string()),
        8 => Value::Array(
            (0..rng.random_range(0..4))
                .map(|_| any_value(rng, depth + 1))
                .collect(),
        ),
        _ => {
            let mut m = Map::new();
            for k in ["low", "high", "trigger_pct", "lock_pct", "x"] {
                if rng.random_bool(0.5) {
                    m.insert(k.into(), any_value(rng, depth + 1));
                }
            }
            Value::Object(m)
        }
    }
}

/// A body from the declared schema: some of its properties, each with a random value, or a
/// valid body with one property spoiled.
fn body(rng: &mut StdRng, doc: &Value, schema: &Value, valid: &Value) -> Value {
    let name = schema["$ref"]
        .as_str()
        .unwrap_or_default()
        .rsplit('/')
        .next()
        .unwrap_or_default();
    let props: Vec<String> = doc["components"]["schemas"][name]["properties"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    if rng.random_bool(0.5) && valid.is_object() && !props.is_empty() {
        let mut v = valid.clone();
        let k = &props[rng.random_range(0..props.len())];
        v[k.as_str()] = any_value(rng, 0);
        return v;
    }
    let mut m = Map::new();
    for k in &props {
        if rng.random_bool(0.4) {
            m.insert(k.clone(), any_value(rng, 0));
        }
    }
    Value::Object(m)
}

fn param(rng: &mut StdRng) -> String {
    let v = any_value(rng, 2);
    let s = match v {
        Value::String(s) => s,
        other => other.to_string(),
    };
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn snapshot(c: &reqwest::Client, url: &str) -> (String, Vec<(Value, Value)>) {
    let configs = c
        .get(format!("{url}/api/configs"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("configs")
        .text()
        .await
        .unwrap_or_default();
    let hb: Value = c
        .get(format!("{url}/api/trading/heartbeat"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("heartbeat")
        .json()
        .await
        .unwrap_or(Value::Null);
    let engines = hb["engines"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| (e["configuration_id"].clone(), e["status"].clone()))
                .collect()
        })
        .unwrap_or_default();
    (configs, engines)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_requests_from_the_openapi_document_never_fail_the_server_or_change_state_when_refused(
) {
    let cases: u32 = std::env::var("STRANGLE_API_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(150);
    let seed: u64 = std::env::var("STRANGLE_API_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let dir = Dir::new("api_fuzz");
    // Engines the fuzzer starts wait on a market clock fixed at 15:30 IST, after the entry.
    let (mut child, url) = serve(&dir, TOKEN, &["--sim-start", "2026-03-10T10:00:00Z"]);
    let c = reqwest::Client::new();
    let doc: Value = c
        .get(format!("{url}/api/openapi.json"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("doc")
        .json()
        .await
        .expect("json");
    // One stored profile, so that ids and updates have something to aim at.
    let valid_profile: Value = c
        .get(format!("{url}/api/configs/defaults"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("defaults")
        .json()
        .await
        .expect("json");
    let mut p = valid_profile.clone();
    p["name"] = json!("fuzz-base");
    let created = c
        .post(format!("{url}/api/configs"))
        .bearer_auth(TOKEN)
        .json(&p)
        .send()
        .await
        .expect("create");
    assert_eq!(created.status().as_u16(), 201);
    let valid_control = json!({"action": "stop", "configuration_id": 1});

    let mut rng = StdRng::seed_from_u64(seed);
    let mut sent = 0u64;
    let mut by_status = std::collections::BTreeMap::<u16, u64>::new();
    let mut failures = Vec::new();
    let paths = doc["paths"].as_object().cloned().unwrap_or_default();
    for (path, ops) in &paths {
        for (method, op) in ops.as_object().cloned().unwrap_or_default() {
            let params: Vec<(String, String)> = op["parameters"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|p| {
                            (
                                p["name"].as_str().unwrap_or_default().to_string(),
                                p["in"].as_str().unwrap_or_default().to_string(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            let schema = op["requestBody"]["content"]["application/json"]["schema"].clone();
            for _ in 0..cases {
                let mut target = path.clone();
                let mut query = Vec::new();
                for (name, place) in &params {
                    if place == "path" {
                        let v = if rng.random_bool(0.3) {
                            "1".to_string()
                        } else {
                            param(&mut rng)
                        };
                        target = target.replace(&format!("{{{name}}}"), &v);
                    } else if rng.random_bool(0.6) {
                        query.push(format!("{name}={}", param(&mut rng)));
                    }
                }
                if rng.random_bool(0.1) {
                    query.push(format!(
                        "unknown_{}={}",
                        rng.random::<u8>(),
                        param(&mut rng)
                    ));
                }
                if !query.is_empty() {
                    target = format!("{target}?{}", query.join("&"));
                }
                let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes())
                    .unwrap_or(reqwest::Method::GET);
                let mut req = c
                    .request(m.clone(), format!("{url}{target}"))
                    .bearer_auth(TOKEN);
                if !schema.is_null() {
                    let valid = if path.contains("control") {
                        &valid_control
                    } else {
                        &valid_profile
                    };
                    req = if rng.random_bool(0.1) {
                        req.header("content-type", "application/json")
                            .body(["{", "[1,", "null", "\"x\"", "{\"a\":}"][rng.random_range(0..5)])
                    } else {
                        req.json(&body(&mut rng, &doc, &schema, valid))
                    };
                }
                let before = snapshot(&c, &url).await;
                let resp = req.send().await;
                sent += 1;
                let Ok(resp) = resp else {
                    failures.push(format!("{method} {target}: no answer"));
                    continue;
                };
                let status = resp.status().as_u16();
                *by_status.entry(status).or_default() += 1;
                let text = resp.text().await.unwrap_or_default();
                if status >= 500 {
                    failures.push(format!("{method} {target}: {status} {text}"));
                } else if (400..500).contains(&status) {
                    let after = snapshot(&c, &url).await;
                    if after != before {
                        failures.push(format!(
                            "{method} {target}: refused ({status}) but the state changed"
                        ));
                    }
                }
            }
        }
    }
    // Stop whatever a lucky valid request started.
    let _ = c
        .post(format!("{url}/api/trading/control"))
        .bearer_auth(TOKEN)
        .json(&json!({"action": "stop", "configuration_id": 1}))
        .send()
        .await;
    child.kill();
    println!(
        "api fuzz: {sent} requests over {} operations (seed {seed}), answers by status {by_status:?}, {} failures",
        paths.values().map(|o| o.as_object().map_or(0, |m| m.len())).sum::<usize>(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{}",
        failures
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
