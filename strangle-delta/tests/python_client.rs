//! Delta's official Python client (`delta-rest-client` from PyPI) works against the local
//! server: products, tickers, option chain, order book, place / query / cancel an order,
//! balances and positions.
//!
//! Needs Python 3 with `delta-rest-client` installed. `scripts/test` installs it into a
//! virtual environment and points `STRANGLE_PYTHON` at it; otherwise `python3` is used.

use std::process::Command;
use std::sync::Arc;

use strangle_core::clock::ScaledClock;
use strangle_delta::server::{demo_credentials, LocalServer, ServerConfig};

fn python() -> String {
    std::env::var("STRANGLE_PYTHON").unwrap_or_else(|_| "python3".into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_python_client_works_against_the_local_server() {
    let py = python();
    let probe = Command::new(&py)
        .args(["-c", "import delta_rest_client"])
        .output();
    match probe {
        Ok(o) if o.status.success() => {}
        _ => panic!(
            "this test needs Python 3 with Delta's official client: run `{py} -m pip install delta-rest-client` \
             (scripts/test does this in target/pyenv), or point STRANGLE_PYTHON at a Python that has it"
        ),
    }
    // The market's clock starts at a fixed instant (09:30 IST, 10 March 2026), never "now".
    let start = chrono::DateTime::from_timestamp(1_773_115_200, 0).expect("an instant");
    let server = LocalServer::start(ServerConfig {
        clock: Arc::new(ScaledClock::new(start, 1.0)),
        ..ServerConfig::default()
    })
    .await
    .expect("server");
    let creds = demo_credentials();
    let script = format!(
        "{}/tests/python/official_client.py",
        env!("CARGO_MANIFEST_DIR")
    );
    let url = server.base_url();
    let key = creds.api_key.clone();
    // The secret goes to the child through its environment-free argv only in this test: it
    // is the local server's demo secret, never a real one.
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
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "official client failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("all checks passed"), "{stdout}");
}
