//! Two independent Python clients work against the local server: Delta's official client
//! (`delta-rest-client`: products, tickers, option chain, order book, place / query / cancel
//! an order, balances and positions) and ccxt's `delta` class (markets from the full product
//! schema, a ticker, the balance, place and cancel).
//!
//! Needs Python 3 with `delta-rest-client` and `ccxt` installed. `scripts/test` installs them
//! into a virtual environment and points `STRANGLE_PYTHON` at it; otherwise `python3` is used.

use std::process::Command;
use std::sync::Arc;

use strangle_core::clock::ScaledClock;
use strangle_delta_market::{demo_credentials, LocalServer, ServerConfig};

fn python() -> String {
    std::env::var("STRANGLE_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Runs `tests/python/<script>` against a fresh local server (its clock at 09:30 IST, 10
/// March 2026, never "now") and returns its output, after checking that `module` imports.
async fn drive(script: &str, module: &str, what: &str) -> String {
    let py = python();
    let probe = Command::new(&py)
        .args(["-c", &format!("import {module}")])
        .output();
    match probe {
        Ok(o) if o.status.success() => {}
        _ => panic!(
            "this test needs Python 3 with {what}: run `{py} -m pip install {module}` \
             (scripts/test does this in target/pyenv), or point STRANGLE_PYTHON at a Python that has it"
        ),
    }
    let start = chrono::DateTime::from_timestamp(1_773_115_200, 0).expect("an instant");
    let server = LocalServer::start(ServerConfig {
        clock: Arc::new(ScaledClock::new(start, 1.0)),
        ..ServerConfig::default()
    })
    .await
    .expect("server");
    let creds = demo_credentials();
    let script = format!("{}/tests/python/{script}", env!("CARGO_MANIFEST_DIR"));
    let url = server.base_url();
    let key = creds.api_key.clone();
    // The local server's demo secret on the child's command line, never a real one.
    let secret = "sim-secret-not-for-real-money".to_string();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(py)
            .arg(script)
            .args([url, key, secret])
            .output()
    })
    .await
    .expect("join")
    .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{what} failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("all checks passed"), "{stdout}");
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_python_client_works_against_the_local_server() {
    drive(
        "official_client.py",
        "delta_rest_client",
        "Delta's official client",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ccxt_works_against_the_local_server() {
    let out = drive("ccxt_client.py", "ccxt", "ccxt").await;
    assert!(out.contains("ok   load_markets"), "{out}");
}
