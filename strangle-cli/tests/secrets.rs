//! A known API secret and API token through the whole flow — the Delta-compatible market
//! (`strangle sim-server`) accepting that secret, `strangle run` trading live on it, `strangle
//! serve` trading live through its REST API, a run with a wrong secret, the session commands
//! and reports — with every log at trace level. Then every captured log line, every API
//! response, every report and every byte of the ledger files is searched: zero hits for the
//! secret, and the token never appears in a log.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{entry_0930_ist, Dir, Proc};
use serde_json::{json, Value};

type Sink = Arc<Mutex<String>>;

fn strangle(dir: &Dir) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_strangle"));
    c.current_dir(dir.path(""))
        .arg("--ledger")
        .arg(dir.ledger())
        .env("STRANGLE_LOG", "trace")
        .env_remove("STRANGLE_DELTA_CREDENTIALS_FILE")
        .env_remove("STRANGLE_WEBHOOK_URL")
        .env_remove("STRANGLE_TELEGRAM_BOT_TOKEN");
    c
}

/// Spawns with both pipes drained into `sink`; the first stdout line goes to `first`.
fn spawn(mut c: Command, sink: &Sink) -> (Proc, std::sync::mpsc::Receiver<String>) {
    let mut child = Proc(
        c.stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("strangle starts"),
    );
    let (tx, rx) = std::sync::mpsc::channel();
    if let Some(out) = child.stdout.take() {
        let sink = sink.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line.clone());
                if let Ok(mut s) = sink.lock() {
                    s.push_str(&line);
                    s.push('\n');
                }
            }
        });
    }
    if let Some(err) = child.stderr.take() {
        let sink = sink.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if let Ok(mut s) = sink.lock() {
                    s.push_str(&line);
                    s.push('\n');
                }
            }
        });
    }
    (child, rx)
}

fn run_to_end(c: Command, sink: &Sink) {
    let (mut child, _rx) = spawn(c, sink);
    let _ = child.wait();
}

/// The profile's entry and exit (IST): the market's clock starts at the entry.
const ENTRY: &str = "09:30";
const EXIT: &str = "10:20";

async fn sessions_open(dir: &Dir, name: &str) -> bool {
    use strangle_core::ledger::Ledger;
    let Ok(store) = strangle_store::Store::open_read_only(&dir.ledger(), None).await else {
        return false;
    };
    store
        .latest_session(name)
        .await
        .ok()
        .flatten()
        .is_some_and(|s| s.state == strangle_core::ledger::SessionState::Open)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_known_secret_and_token_never_show_anywhere() {
    let nonce: u64 = rand::random();
    let secret = format!("Sec-{}-{nonce}-do-not-show", std::process::id());
    let token = format!("Tok-{}-{nonce}-do-not-show", std::process::id());
    let dir = Dir::new("secrets");
    let logs: Sink = Arc::default();
    let mut bodies = String::new();

    // The market, accepting only this key and secret.
    let mut market = strangle(&dir);
    market
        .args(["sim-server", "--port", "0", "--start"])
        .arg(entry_0930_ist().to_rfc3339())
        .env("STRANGLE_SIM_API_KEY", "k-secret-test")
        .env("STRANGLE_SIM_API_SECRET", &secret);
    let (mut market, lines) = spawn(market, &logs);
    let first = lines
        .recv_timeout(Duration::from_secs(60))
        .expect("the market says where it listens");
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("url")
        .to_string();

    // `strangle run` trading live on it until the strangle is open, then Ctrl-C (flatten).
    let (entry, exit) = (ENTRY, EXIT);
    let p = dir.write(
        "p.toml",
        &format!(
            "name = \"secret-run\"\nentry_time = \"{entry}\"\nentry_window_minutes = 40\n\
             exit_time = \"{exit}\"\ncontracts_per_leg = \"2\"\n"
        ),
    );
    let mut run = strangle(&dir);
    run.args([
        "run", "--market", "live", "--live", "--poll", "1", "--env", &url, "--config",
    ])
    .arg(&p)
    .env("STRANGLE_DELTA_API_KEY", "k-secret-test")
    .env("STRANGLE_DELTA_API_SECRET", &secret);
    let (mut run, _rx) = spawn(run, &logs);
    let mut opened = false;
    for _ in 0..600 {
        if sessions_open(&dir, "secret-run").await {
            opened = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    run.interrupt();
    let _ = run.wait();
    assert!(
        opened,
        "the live run never opened its strangle:\n{}",
        logs.lock().map(|s| s.clone()).unwrap_or_default()
    );

    // A wrong secret: refused by the market, reported without the secret.
    let wrong = format!("{secret}-wrong");
    let mut bad = strangle(&dir);
    bad.args([
        "run", "--market", "live", "--live", "--env", &url, "--config",
    ])
    .arg(&p)
    .env("STRANGLE_DELTA_API_KEY", "k-secret-test")
    .env("STRANGLE_DELTA_API_SECRET", &wrong);
    run_to_end(bad, &logs);

    // `strangle serve` trading live through its API, with the token.
    let serve_dir = Dir::new("secrets_serve");
    let mut serve = strangle(&serve_dir);
    serve
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--market",
            "live",
            "--live",
            "--env",
            &url,
        ])
        .env("STRANGLE_DELTA_API_KEY", "k-secret-test")
        .env("STRANGLE_DELTA_API_SECRET", &secret)
        .env("STRANGLE_API_TOKEN", &token);
    let (mut serve, lines) = spawn(serve, &logs);
    let first = lines
        .recv_timeout(Duration::from_secs(60))
        .expect("serve says where");
    let api = first.rsplit(' ').next().expect("url").to_string();
    let c = reqwest::Client::new();
    let get = |path: String| {
        let c = c.clone();
        let api = api.clone();
        let token = token.clone();
        async move {
            let r = c
                .get(format!("{api}{path}"))
                .bearer_auth(token)
                .send()
                .await
                .expect("get");
            r.text().await.unwrap_or_default()
        }
    };
    let created = c
        .post(format!("{api}/api/configs"))
        .bearer_auth(&token)
        .json(
            &json!({"name": "secret-serve", "entry_time": entry, "exit_time": exit,
                      "contracts_per_leg": "1"}),
        )
        .send()
        .await
        .expect("create");
    let created: Value =
        serde_json::from_str(&created.text().await.unwrap_or_default()).unwrap_or(Value::Null);
    bodies.push_str(&created.to_string());
    let id = created["id"].as_i64().expect("profile id");
    let started = c
        .post(format!("{api}/api/trading/control"))
        .bearer_auth(&token)
        .json(&json!({"action": "start", "configuration_id": id}))
        .send()
        .await
        .expect("start");
    bodies.push_str(&started.text().await.unwrap_or_default());
    let mut serve_opened = false;
    for _ in 0..300 {
        let hb = get(format!("/api/trading/heartbeat?configuration_id={id}")).await;
        bodies.push_str(&hb);
        if hb.contains("\"phase\":\"open\"") {
            serve_opened = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(serve_opened, "the served engine never opened its strangle");
    let sessions = get("/api/trading/sessions".into()).await;
    let session_id = serde_json::from_str::<Value>(&sessions)
        .ok()
        .and_then(|v| v["items"][0]["session_id"].as_str().map(str::to_string))
        .unwrap_or_default();
    bodies.push_str(&sessions);
    for path in [
        format!("/api/trading/runtime?configuration_id={id}"),
        format!("/api/trading/sessions/{session_id}"),
        "/api/trading/sessions/export".into(),
        "/api/configs".into(),
        format!("/api/configs/{id}"),
        "/api/analytics/dashboard".into(),
        "/api/analytics/history".into(),
        "/api/openapi.json".into(),
        "/metrics".into(),
    ] {
        bodies.push_str(&get(path).await);
    }
    let stopped = c
        .post(format!("{api}/api/trading/control"))
        .bearer_auth(&token)
        .json(&json!({"action": "stop", "configuration_id": id}))
        .send()
        .await
        .expect("stop");
    bodies.push_str(&stopped.text().await.unwrap_or_default());
    // Without the token: refused, and the refusal says nothing of it.
    let refused = c
        .get(format!("{api}/api/configs"))
        .send()
        .await
        .expect("no token");
    assert_eq!(refused.status().as_u16(), 401);
    bodies.push_str(&refused.text().await.unwrap_or_default());
    tokio::time::sleep(Duration::from_secs(2)).await;
    serve.interrupt();
    let _ = serve.wait();

    // The session commands and reports.
    for args in [
        vec!["sessions", "list", "--json"],
        vec!["sessions", "export"],
        vec!["sessions", "export", "-o", "-"],
    ] {
        let mut c = strangle(&dir);
        c.args(&args);
        run_to_end(c, &logs);
    }
    market.kill();

    let logs = logs.lock().map(|s| s.clone()).unwrap_or_default();
    assert!(logs.contains("running profile"), "the flow ran:\n{logs}");
    assert!(
        logs.matches("session_id,profile,").count() >= 2,
        "both exports went to standard output"
    );
    assert!(
        !dir.path("-").exists(),
        "`-o -` is standard output, not a file"
    );
    let mut files = Vec::new();
    for d in [&dir, &serve_dir] {
        for ext in ["", "-wal", "-shm"] {
            if let Ok(b) = std::fs::read(format!("{}{ext}", d.ledger())) {
                files.push(b);
            }
        }
    }
    let hits = |needle: &str| {
        logs.matches(needle).count()
            + bodies.matches(needle).count()
            + files
                .iter()
                .map(|f| {
                    f.windows(needle.len())
                        .filter(|w| *w == needle.as_bytes())
                        .count()
                })
                .sum::<usize>()
    };
    println!(
        "secrets: {} log bytes, {} response bytes, {} ledger bytes searched; secret hits {}, token hits in logs {}",
        logs.len(),
        bodies.len(),
        files.iter().map(Vec::len).sum::<usize>(),
        hits(&secret),
        logs.matches(&token).count()
    );
    assert_eq!(hits(&secret), 0, "the secret showed up");
    assert_eq!(
        logs.matches(&token).count(),
        0,
        "the token showed up in a log"
    );
}
