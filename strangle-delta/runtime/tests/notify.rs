//! Notices delivered over real HTTP to a local receiver that records what it gets: a webhook
//! and a Telegram-Bot-API-style endpoint, fed by an engine fast-forwarding on the sim market.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use chrono::{Duration, TimeZone, Utc};
use rust_decimal::Decimal;
use serde_json::Value;
use strangle_core::memory::MemoryLedger;
use strangle_core::notice::Notice;
use strangle_core::profile::Profile;
use strangle_delta::error::Secret;
use strangle_delta_market::demo_credentials;
use strangle_delta_runtime::notify::{watch_engine, Notifier, NotifyConfig, Telegram};
use strangle_delta_runtime::{FastForward, Market, RunSpec, RunningEngine, SimMarket, SimTime};

const TOKEN: &str = "123456:bot-token-that-must-stay-secret";

#[derive(Default)]
struct Received {
    /// (path, body) of every accepted POST.
    posts: Vec<(String, Value)>,
    /// Requests answered 503 so far (the first of each path fails once).
    failed: Vec<String>,
}

type Shared = Arc<Mutex<Received>>;

async fn receive(State(r): State<Shared>, Path(path): Path<String>, body: Bytes) -> StatusCode {
    let mut r = r.lock().expect("lock");
    if !r.failed.contains(&path) {
        r.failed.push(path);
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    match serde_json::from_slice(&body) {
        Ok(v) => {
            r.posts.push((path, v));
            StatusCode::OK
        }
        Err(_) => StatusCode::BAD_REQUEST,
    }
}

async fn receiver() -> (String, Shared) {
    let shared = Shared::default();
    let app = Router::new()
        .route("/{*path}", post(receive))
        .with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), shared)
}

fn config(base: &str) -> NotifyConfig {
    NotifyConfig {
        webhook: Some(url::Url::parse(&format!("{base}/hook")).expect("url")),
        telegram: Some(Telegram {
            api: url::Url::parse(&format!("{base}/")).expect("url"),
            token: Secret::new(TOKEN),
            chat_id: "42".into(),
        }),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_exits_and_daily_summaries_reach_the_webhook_and_telegram() {
    let (base, got) = receiver().await;
    let notifier = Notifier::new(config(&base)).expect("notifier");
    let mut profile = Profile::named("notify");
    profile.contracts_per_leg = Decimal::ONE;
    profile.liquidity.max_quote_age_secs = 900;
    // Two IST days from midnight IST on 10 March 2026, fast-forwarded.
    let start = Utc
        .with_ymd_and_hms(2026, 3, 9, 18, 30, 0)
        .single()
        .expect("time");
    let spec = RunSpec::new(
        profile,
        Market::Sim(SimMarket {
            seed: 7,
            credentials: demo_credentials(),
            time: SimTime::FastForward(FastForward {
                start,
                span: Duration::hours(49),
            }),
        }),
    );
    let running = RunningEngine::start(spec, MemoryLedger::new())
        .await
        .expect("engine starts");
    let watcher = watch_engine(running.handle().watch(), notifier);
    let last = running.wait().await.expect("engine runs");
    watcher.await.expect("watcher ends with the engine");
    assert!(last.last_session.is_some(), "a session closed");

    let r = got.lock().expect("lock");
    let hook: Vec<&Value> = r
        .posts
        .iter()
        .filter(|(p, _)| p == "hook")
        .map(|(_, v)| v)
        .collect();
    let events: Vec<&str> = hook.iter().filter_map(|v| v["event"].as_str()).collect();
    // Two trading days: each opened and closed, and the first day's summary was sent when
    // the second began.
    assert_eq!(
        events.iter().filter(|e| **e == "entry").count(),
        2,
        "{events:?}"
    );
    assert_eq!(
        events.iter().filter(|e| **e == "exit").count(),
        2,
        "{events:?}"
    );
    assert!(events.contains(&"daily_summary"), "{events:?}");
    let first_entry = events.iter().position(|e| *e == "entry");
    let first_exit = events.iter().position(|e| *e == "exit");
    assert!(first_entry < first_exit, "entry before exit: {events:?}");
    // The webhook gets the typed notice plus the text.
    let entry = hook
        .iter()
        .find(|v| v["event"] == "entry")
        .expect("an entry");
    assert_eq!(entry["profile"], "notify");
    assert_eq!(entry["mode"], "sim");
    assert_eq!(entry["legs"].as_array().map(Vec::len), Some(2));
    let parsed: Notice = serde_json::from_value((*entry).clone()).expect("a notice");
    assert_eq!(parsed.event(), "entry");
    assert!(entry["text"]
        .as_str()
        .is_some_and(|t| t.contains("strangle opened")));
    // Telegram gets sendMessage with the chat id, once per notice, at the token's path.
    let tg: Vec<&Value> = r
        .posts
        .iter()
        .filter(|(p, _)| p == &format!("bot{TOKEN}/sendMessage"))
        .map(|(_, v)| v)
        .collect();
    assert_eq!(tg.len(), hook.len());
    assert!(tg.iter().all(|v| v["chat_id"] == "42"));
    // The first POST of each destination was answered 503 and retried.
    assert_eq!(r.failed.len(), 2);
}

#[tokio::test]
async fn a_dead_destination_fails_cleanly_without_the_token_in_the_error() {
    // Nothing listens on port 9.
    let notifier = Notifier::new(config("http://127.0.0.1:9")).expect("notifier");
    let notice = Notice::Error {
        profile: "p".into(),
        mode: strangle_core::ledger::Mode::Sim,
        at: Utc
            .with_ymd_and_hms(2026, 3, 10, 4, 0, 0)
            .single()
            .expect("an instant"),
        message: "boom".into(),
    };
    let err = notifier.send(&notice).await.expect_err("nobody listens");
    let text = format!("{err} {err:?}");
    assert!(text.contains("notification failed"), "{text}");
    assert!(!text.contains(TOKEN), "the bot token leaked: {text}");
    assert!(!text.contains("bot-token"), "the bot token leaked: {text}");
}

#[test]
fn settings_from_the_environment_are_checked() {
    // One test touches these variables, so no other test races with it.
    std::env::set_var("STRANGLE_TELEGRAM_BOT_TOKEN", "t");
    std::env::remove_var("STRANGLE_TELEGRAM_CHAT_ID");
    let e = NotifyConfig::from_env().expect_err("token without chat");
    assert!(e.to_string().contains("STRANGLE_TELEGRAM_CHAT_ID"));
    std::env::set_var("STRANGLE_TELEGRAM_CHAT_ID", "1");
    std::env::set_var("STRANGLE_WEBHOOK_URL", "ftp://x");
    let e = NotifyConfig::from_env().expect_err("bad scheme");
    assert!(e.to_string().contains("STRANGLE_WEBHOOK_URL"));
    std::env::set_var("STRANGLE_WEBHOOK_URL", "http://127.0.0.1:1/h");
    let c = NotifyConfig::from_env().expect("valid");
    assert!(c.is_enabled());
    assert!(!format!("{c:?}").contains("Secret(\"t\")"));
    for k in [
        "STRANGLE_TELEGRAM_BOT_TOKEN",
        "STRANGLE_TELEGRAM_CHAT_ID",
        "STRANGLE_WEBHOOK_URL",
    ] {
        std::env::remove_var(k);
    }
}

/// The error that ends an engine reaches the operator once, stamped with the engine's own
/// clock: a simulated market's time, never the wall clock (the front ends once stamped it
/// each their own way).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_error_that_ends_an_engine_is_sent_on_the_engines_clock() {
    let (base, got) = receiver().await;
    let notifier = Notifier::new(config(&base)).expect("notifier");
    let start = Utc
        .with_ymd_and_hms(2026, 3, 10, 4, 0, 0)
        .single()
        .expect("time");
    let spec = RunSpec::new(
        Profile::named("ends"),
        Market::Sim(SimMarket {
            seed: 7,
            credentials: demo_credentials(),
            time: SimTime::Scaled(strangle_core::clock::ScaledClock::new(start, 1.0)),
        }),
    );
    let running = RunningEngine::start(spec, MemoryLedger::new())
        .await
        .expect("engine starts")
        .with_notifier(Some(notifier));
    running.abort();
    let err = running.wait().await.expect_err("aborted");
    let r = got.lock().expect("lock");
    let errors: Vec<&Value> = r
        .posts
        .iter()
        .filter(|(p, v)| p == "hook" && v["event"] == "error")
        .map(|(_, v)| v)
        .collect();
    assert_eq!(errors.len(), 1, "{:?}", r.posts);
    let at: chrono::DateTime<Utc> =
        serde_json::from_value(errors[0]["at"].clone()).expect("a time");
    assert!(
        at >= start && at < start + Duration::hours(1),
        "stamped {at} by the market's clock, which started at {start}"
    );
    assert!(
        errors[0]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("the engine stopped: ") && m.contains(&err.to_string())),
        "{}",
        errors[0]
    );
}
