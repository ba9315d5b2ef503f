//! A real process is killed (SIGKILL) while its order is in flight to the Delta-compatible
//! local server, then a new engine starts on the same SQLite ledger and the same server. The
//! order must not be sent twice, the session must be completed, and the ledger must match the
//! exchange.
//!
//! The test binary runs itself as the child (the ignored test `engine_child`).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use rust_decimal::Decimal;
use strangle_core::clock::{Clock, ScaledClock};
use strangle_core::engine::{Engine, EngineCommand, EngineConfig};
use strangle_core::ledger::{Ledger, Mode, SessionState};
use strangle_core::model::Underlying;
use strangle_core::profile::{Profile, TimeOfDay};
use strangle_core::Execution;
use strangle_delta::api::DeltaClient;
use strangle_delta::exchange::DeltaExchange;
use strangle_delta::rest::RetryPolicy;
use strangle_delta::Environment;
use strangle_delta_market::{
    demo_credentials, FaultKind, FaultRule, LocalServer, MarketSource, ServerConfig,
};
use strangle_delta_runtime::market_clock;
use strangle_store::{SqliteStore, Store};

const CHILD_URL: &str = "STRANGLE_CRASH_CHILD_URL";
const CHILD_DB: &str = "STRANGLE_CRASH_CHILD_DB";

/// Tuesday 10 March 2026, 09:30 IST: the market's clock starts at the profile's entry, so the
/// test decides the same way whatever the hour it runs at.
fn market_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, 4, 0, 0)
        .single()
        .expect("an instant")
}

/// Entry at 09:30 IST, the exit well after it; the default 24 h expiry buffer picks the next
/// day's 12:00 UTC expiry (32 h out), whose strike grid has contracts in the delta band.
fn profile() -> Profile {
    let mut p = Profile::named("crash-process");
    p.entry_time = TimeOfDay::hm(9, 30).expect("time");
    p.entry_window_minutes = 30;
    p.exit_time = TimeOfDay::hm(10, 15).expect("time");
    p.contracts_per_leg = Decimal::from(2);
    p
}

/// The local market's own clock (`strangle_delta_runtime::market_clock`), as every process
/// trading on it follows.
async fn clock(url: &str) -> Arc<dyn Clock> {
    let client = DeltaClient::new(Environment::local(url), None).expect("client");
    market_clock(&client, &Environment::local(url))
        .await
        .expect("the market's clock")
}

/// Kills and reaps the child when dropped, so a failing test leaves nothing running.
struct Kill(std::process::Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn exchange(url: &str) -> Arc<DeltaExchange> {
    let policy = RetryPolicy {
        timeout: Duration::from_secs(30),
        ..RetryPolicy::default()
    };
    let client =
        DeltaClient::with_policy(Environment::local(url), Some(demo_credentials()), policy)
            .expect("client");
    Arc::new(DeltaExchange::new(client))
}

fn config() -> EngineConfig {
    EngineConfig {
        mode: Mode::Sim,
        poll_interval: chrono::Duration::milliseconds(200),
        adopt: false,
        ioc_entries: false,
    }
}

/// The child: trades until killed.
#[tokio::test]
#[ignore = "run by the process crash test as its child"]
async fn engine_child() {
    let (Ok(url), Ok(db)) = (std::env::var(CHILD_URL), std::env::var(CHILD_DB)) else {
        return;
    };
    let store = Arc::new(Store::Sqlite(
        SqliteStore::open(std::path::Path::new(&db))
            .await
            .expect("ledger"),
    ));
    let (mut e, _h) = Engine::start(
        profile(),
        config(),
        exchange(&url),
        store,
        clock(&url).await,
    )
    .await
    .expect("engine");
    println!("STARTED");
    let _ = e.run().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_process_restarts_without_duplicating_its_order() {
    let mut cfg = ServerConfig {
        clock: Arc::new(ScaledClock::new(market_start(), 1.0)),
        ..ServerConfig::default()
    };
    if let MarketSource::Synthetic { step, .. } = &mut cfg.market {
        *step = Duration::from_millis(200);
    }
    let server = LocalServer::start(cfg).await.expect("server");
    // The first order is placed by the server but its answer is held for 30 s: the child
    // is killed while waiting for it.
    server.faults().add(FaultRule::new(
        Some("POST"),
        Some("/v2/orders"),
        FaultKind::SlowAnswer(Duration::from_secs(30)),
        1,
    ));
    let db = std::env::temp_dir().join(format!("strangle_crash_process_{}.db", std::process::id()));
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", db.display()));
    }
    let mut child = Kill(
        Command::new(std::env::current_exe().expect("test binary"))
            .args([
                "--ignored",
                "--exact",
                "engine_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_URL, server.base_url())
            .env(CHILD_DB, &db)
            .stdout(Stdio::piped())
            .spawn()
            .expect("child starts"),
    );
    let stdout = child.0.stdout.take().expect("stdout");
    std::thread::spawn(move || for _ in BufReader::new(stdout).lines() {});
    // Wait until the first order has reached the venue, then kill the process.
    let mut waited = 0;
    while server.venue().requests().is_empty() {
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += 1;
        assert!(waited < 600, "the child never placed an order");
    }
    child.0.kill().expect("SIGKILL");
    let _ = child.0.wait();
    let first = server.venue().requests()[0].client_order_id.clone();

    // A new engine on the same ledger file and the same server.
    let store = Arc::new(Store::Sqlite(SqliteStore::open(&db).await.expect("reopen")));
    let ex = exchange(&server.base_url());
    let (mut e, h) = Engine::start(
        profile(),
        config(),
        ex.clone(),
        store.clone(),
        clock(&server.base_url()).await,
    )
    .await
    .expect("restart");
    let run = tokio::spawn(async move { e.run().await });
    // Let it finish the entry, then stop (flatten and stop).
    let mut waited = 0;
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let s = store.latest_session("crash-process").await.expect("read");
        if s.as_ref().is_some_and(|s| s.state == SessionState::Open) {
            break;
        }
        waited += 1;
        assert!(
            waited < 300,
            "the restarted engine never completed the entry: {s:?}"
        );
    }
    h.send(EngineCommand::Stop);
    tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("stops")
        .expect("join")
        .expect("clean stop");

    let reqs = server.venue().requests();
    assert_eq!(
        reqs.iter().filter(|r| r.client_order_id == first).count(),
        1,
        "the in-flight order was not sent again"
    );
    let mut ids: Vec<_> = reqs.iter().map(|r| r.client_order_id.clone()).collect();
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "no client order id was sent twice");
    let s = store
        .latest_session("crash-process")
        .await
        .expect("read")
        .expect("session");
    assert_eq!(s.state, SessionState::Closed);
    assert!(
        s.legs
            .iter()
            .all(|g| g.book.sold == Decimal::from(2) && g.book.open().is_zero()),
        "{:?}",
        s.legs
    );
    assert!(
        ex.positions(Underlying::Btc)
            .await
            .expect("positions")
            .is_empty(),
        "flat at the exchange"
    );
    assert_eq!(
        server.venue().cash(),
        Decimal::from(10_000) + s.pnl.net,
        "ledger PnL = exchange cash"
    );
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", db.display()));
    }
}
