//! `strangle serve` under sustained loopback load while two simulated sessions trade: 16
//! clients request the heartbeat, runtime, sessions, dashboard, profiles and metrics as fast
//! as the server answers, for `STRANGLE_LOAD_SECS` seconds (default 20; the full reliability
//! run uses 300). Every answer must be 200, and the server's resident memory after the load
//! must not have kept growing. Latency percentiles and throughput are printed, not asserted.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{serve, Dir};
use serde_json::{json, Value};

fn rss_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_sustained_load_without_errors_or_growing_memory() {
    let secs: u64 = std::env::var("STRANGLE_LOAD_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let dir = Dir::new("load");
    let token = "load-token";
    let (mut child, url) = serve(
        &dir,
        token,
        &["--sim-start", "2026-03-10T03:59:00Z", "--sim-speed", "60"],
    );
    let c = reqwest::Client::builder()
        .pool_max_idle_per_host(32)
        .build()
        .expect("client");

    // Two profiles trading on the simulated market while the load runs.
    let mut ids = Vec::new();
    for (name, u) in [("load-btc", "BTC"), ("load-eth", "ETH")] {
        let r: Value = c
            .post(format!("{url}/api/configs"))
            .bearer_auth(token)
            .json(
                &json!({"name": name, "underlying": u, "contracts_per_leg": "1",
                          "liquidity": {"max_quote_age_secs": 900}}),
            )
            .send()
            .await
            .expect("create")
            .json()
            .await
            .expect("json");
        let id = r["id"].as_i64().expect("id");
        let st = c
            .post(format!("{url}/api/trading/control"))
            .bearer_auth(token)
            .json(&json!({"action": "start", "configuration_id": id}))
            .send()
            .await
            .expect("start")
            .status();
        assert_eq!(st.as_u16(), 200);
        ids.push(id);
    }
    let paths: Vec<String> = vec![
        format!("/api/trading/heartbeat?configuration_id={}", ids[0]),
        format!("/api/trading/runtime?configuration_id={}", ids[1]),
        "/api/trading/sessions?limit=20".into(),
        "/api/analytics/dashboard".into(),
        "/api/configs".into(),
        "/metrics".into(),
    ];
    let pid = child.id();
    // Warm up, then measure.
    let warm_until = Instant::now() + Duration::from_secs(2);
    while Instant::now() < warm_until {
        let _ = c
            .get(format!("{url}{}", paths[0]))
            .bearer_auth(token)
            .send()
            .await;
    }
    let rss_start = rss_kib(pid);
    let errors = Arc::new(AtomicU64::new(0));
    let latencies = Arc::new(Mutex::new(Vec::<u32>::new()));
    let end = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let mut rss_samples = Vec::new();
    let mut tasks = Vec::new();
    for k in 0..16 {
        let (c, url, paths) = (c.clone(), url.clone(), paths.clone());
        let (errors, latencies) = (errors.clone(), latencies.clone());
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            let mut i = k;
            while Instant::now() < end {
                let path = &paths[i % paths.len()];
                i += 1;
                let t = Instant::now();
                match c
                    .get(format!("{url}{path}"))
                    .bearer_auth(token)
                    .send()
                    .await
                {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        mine.push(u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX));
                    }
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            if let Ok(mut l) = latencies.lock() {
                l.extend(mine);
            }
        }));
    }
    while Instant::now() < end {
        tokio::time::sleep(Duration::from_secs(1)).await;
        rss_samples.extend(rss_kib(pid));
    }
    for t in tasks {
        t.await.expect("client task");
    }
    let elapsed = started.elapsed().as_secs_f64();
    let rss_end = rss_kib(pid);
    child.kill();

    let mut l = latencies.lock().map(|l| l.clone()).unwrap_or_default();
    l.sort_unstable();
    let pct = |p: f64| {
        l.get(((l.len() as f64 - 1.0) * p) as usize)
            .copied()
            .unwrap_or(0)
    };
    let errors = errors.load(Ordering::Relaxed);
    // Memory is flat when the second half of the run holds no more than the first half
    // plus a margin for allocator noise.
    let half = rss_samples.len() / 2;
    let max_first = rss_samples[..half].iter().max().copied().unwrap_or(0);
    let max_second = rss_samples[half..].iter().max().copied().unwrap_or(0);
    println!(
        "load: {} requests in {elapsed:.1} s ({:.0}/s), {errors} errors; latency p50 {:.2} ms, \
         p99 {:.2} ms, max {:.2} ms; RSS {:?} KiB after warm-up, {:?} KiB at the end \
         (max first half {max_first}, second half {max_second})",
        l.len(),
        l.len() as f64 / elapsed,
        f64::from(pct(0.5)) / 1000.0,
        f64::from(pct(0.99)) / 1000.0,
        f64::from(pct(1.0)) / 1000.0,
        rss_start,
        rss_end
    );
    assert_eq!(errors, 0, "every request answered 200");
    assert!(!l.is_empty(), "requests were served");
    assert!(
        max_second <= max_first + max_first / 5 + 8 * 1024,
        "memory kept growing: {max_first} KiB then {max_second} KiB"
    );
}
