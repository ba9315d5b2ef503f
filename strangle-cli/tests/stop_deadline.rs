//! A signal ends the process within its stop deadline (issue 30 F). Six engines at 600×
//! showed that a stop could wait for ever on an engine that could not flatten: the first
//! SIGINT closed the listener, the process lived on, and nothing said which legs were open.
//! Here `strangle run` trades live on the local market, the strangle opens, every order from
//! then on is refused (the exit cannot flatten), and SIGTERM — what `systemctl stop` and
//! `docker stop` send — is followed, after `--stop-deadline 2`, by exit 130 naming both
//! open legs.

mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{entry_0930_ist, Dir, Proc};
use strangle_core::clock::ScaledClock;
use strangle_core::ledger::{Ledger, SessionState};
use strangle_delta_market::{
    FaultKind, FaultRule, LocalServer, MarketSource, ServerConfig, DEMO_API_KEY, DEMO_API_SECRET,
};
use strangle_store::Store;

async fn state(db: &str) -> Option<SessionState> {
    let store = Store::open_read_only(db, None).await.ok()?;
    store
        .latest_session("deadline")
        .await
        .ok()
        .flatten()
        .map(|s| s.state)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_legs_that_cannot_be_flattened_exits_by_the_deadline_naming_them() {
    let dir = Dir::new("stop-deadline");
    dir.write(
        "p.toml",
        "name = \"deadline\"\nentry_time = \"09:30\"\nentry_window_minutes = 40\n\
         exit_time = \"10:20\"\ncontracts_per_leg = \"3\"\n\
         [liquidity]\nmax_quote_age_secs = 60\n",
    );
    let mut cfg = ServerConfig {
        clock: Arc::new(ScaledClock::new(entry_0930_ist(), 1.0)),
        ..ServerConfig::default()
    };
    if let MarketSource::Synthetic { step, markets, .. } = &mut cfg.market {
        *step = Duration::from_millis(200);
        markets.truncate(1); // BTC
    }
    let server = LocalServer::start(cfg).await.expect("market");
    let db = dir.ledger();
    let mut child = Proc(
        Command::new(env!("CARGO_BIN_EXE_strangle"))
            .arg("--ledger")
            .arg(&db)
            .args(["run", "--market", "live", "--live", "--poll", "1"])
            .args(["--env", &server.base_url(), "--stop-deadline", "2"])
            .arg("--config")
            .arg(dir.path("p.toml"))
            .env("STRANGLE_DELTA_API_KEY", DEMO_API_KEY)
            .env("STRANGLE_DELTA_API_SECRET", DEMO_API_SECRET)
            .env_remove("STRANGLE_DELTA_CREDENTIALS_FILE")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("strangle starts"),
    );
    let mut open = false;
    for _ in 0..1200 {
        if state(&db).await == Some(SessionState::Open) {
            open = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(open, "the strangle opened");
    server.faults().add(FaultRule::new(
        Some("POST"),
        Some("/v2/orders"),
        FaultKind::RejectOrder("insufficient_margin".into()),
        100_000,
    ));
    let sent = Instant::now();
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let mut code = None;
    for _ in 0..400 {
        if let Some(st) = child.try_wait().expect("wait") {
            code = st.code();
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let took = sent.elapsed();
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    assert_eq!(code, Some(130), "exit code; stderr:\n{err}");
    assert!(
        took >= Duration::from_secs(2),
        "it waited for the stop first ({took:?})"
    );
    assert!(err.contains("SIGTERM: stopping"), "{err}");
    assert!(err.contains("after the 2 s stop deadline"), "{err}");
    let line = err
        .lines()
        .find(|l| l.contains("OPEN LEGS"))
        .unwrap_or_else(|| panic!("open legs named: {err}"));
    assert!(
        line.contains("C-BTC-") && line.contains("P-BTC-") && line.contains("short 3"),
        "{line}"
    );
    server.shutdown();
}
